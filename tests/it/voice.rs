//! The direct voice path: `POST /v1/ask` through a Lex bot (a loopback stand-in for the
//! Lex runtime, whose code hook is the real `/lex`) and through the local matcher, with
//! audio from Polly (moto) when the caller accepts it.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use common::lex_stub::LexStub;
use common::moto::Moto;
use opsvoice::channel::Assistant;
use opsvoice::channel::ask::LexBot;
use opsvoice::config::Polly;
use opsvoice::speech::polly::{AudioFormat, Speech, Voice};

/// An assistant on the demo fleet that asks through the Lex stub.
async fn through(stub: &LexStub) -> Arc<Assistant> {
    let client = stub.client().await;
    common::demo(opsvoice::auth::Identity::open())
        .lex(Some(Arc::new(LexBot {
            client,
            bot_id: "BOTID12345".into(),
            bot_alias_id: "ALIAS12345".into(),
            locale_id: "en_US".into(),
        })))
        .build()
        .unwrap()
}

fn text_event(text: &str, intent: &str, service: Option<&str>) -> Value {
    let slots = match service {
        Some(s) => json!({"service": {"shape": "Scalar", "value": {
            "originalValue": s, "interpretedValue": s, "resolvedValues": [s]}}}),
        None => json!({}),
    };
    json!({
        "messageVersion": "1.0",
        "invocationSource": "FulfillmentCodeHook",
        "inputMode": "Text",
        "sessionId": "s-1",
        "inputTranscript": text,
        "bot": {"id": "B", "name": "opsvoice", "aliasId": "A", "localeId": "en_US", "version": "1"},
        "interpretations": [],
        "requestAttributes": {},
        "sessionState": {"sessionAttributes": {}, "intent": {
            "name": intent, "slots": slots, "state": "ReadyForFulfillment", "confirmationState": "None"}}
    })
}

fn lex_text(response: &Value) -> String {
    response["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["contentType"] == "PlainText")
        .map(|m| m["content"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn ask_through_lex_answers_as_lex_does_and_keeps_the_session() {
    let hook = common::spawn_demo().await;
    let stub = LexStub::start(format!("{}/lex", hook.base)).await;
    let app = common::spawn(through(&stub).await).await;
    let local = common::spawn_demo().await;

    let (status, via_lex) = app
        .post_json("/v1/ask", &json!({"text": "how is checkout doing"}))
        .await;
    assert_eq!(status, 200, "{via_lex}");
    assert_eq!(
        stub.seen.calls.load(Ordering::SeqCst),
        1,
        "went through Lex"
    );
    let (_, direct) = hook
        .post_json(
            "/lex",
            &text_event("how is checkout doing", "ServiceHealth", Some("checkout")),
        )
        .await;
    assert_eq!(via_lex["text"], lex_text(&direct));
    let (_, locally) = local
        .post_json("/v1/ask", &json!({"text": "how is checkout doing"}))
        .await;
    assert_eq!(
        via_lex["text"], locally["text"],
        "Lex and the local NLU agree"
    );
    assert_eq!(via_lex["ssml"], locally["ssml"]);
    assert_eq!(via_lex["intent"], "ServiceHealth");
    assert_eq!(via_lex["slots"]["service"], "checkout");
    assert_eq!(via_lex["end_session"], false);
    common::assert_valid_ssml(via_lex["ssml"].as_str().unwrap());

    // The follow-up uses the session Lex keeps.
    let session = via_lex["session_id"].as_str().unwrap();
    let (_, follow) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "and did its deploy finish", "session_id": session}),
        )
        .await;
    assert_eq!(follow["intent"], "DeploymentStatus", "{follow}");
    assert!(
        follow["text"].as_str().unwrap().contains("checkout"),
        "{follow}"
    );
    assert_eq!(follow["session_id"], session);

    // Built-ins come back under their platform names; stop ends the session.
    let (_, help) = app
        .post_json("/v1/ask", &json!({"text": "help", "session_id": session}))
        .await;
    assert_eq!(help["intent"], "AMAZON.HelpIntent");
    let (_, stop) = app
        .post_json("/v1/ask", &json!({"text": "stop", "session_id": session}))
        .await;
    assert_eq!(stop["intent"], "AMAZON.StopIntent");
    assert_eq!(stop["end_session"], true);
}

#[tokio::test]
async fn the_token_travels_to_the_code_hook_as_a_request_attribute_and_nowhere_else() {
    let hook = common::spawn_demo().await;
    let stub = LexStub::start(format!("{}/lex", hook.base)).await;
    let app = common::spawn(through(&stub).await).await;
    let response = app
        .client
        .post(format!("{}/v1/ask", app.base))
        .bearer_auth("header.payload.signature")
        .json(&json!({"text": "any alarms firing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(!body.contains("payload"), "the token is not echoed: {body}");
    let seen = stub.seen.request_attributes.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].get("authorization").map(String::as_str),
        Some("Bearer header.payload.signature")
    );
    assert_eq!(
        seen[0].get("opsvoice:forms").map(String::as_str),
        Some("both")
    );
}

#[tokio::test]
async fn when_lex_throttles_the_local_matcher_answers() {
    let hook = common::spawn_demo().await;
    let stub = LexStub::start(format!("{}/lex", hook.base)).await;
    stub.throttle(true);
    let app = common::spawn(through(&stub).await).await;
    let (status, r) = app
        .post_json("/v1/ask", &json!({"text": "how is checkout doing"}))
        .await;
    assert_eq!(status, 200, "{r}");
    assert!(stub.seen.calls.load(Ordering::SeqCst) >= 1, "Lex was tried");
    assert_eq!(r["intent"], "ServiceHealth");
    assert!(r["text"].as_str().unwrap().starts_with("checkout"), "{r}");
}

#[tokio::test]
async fn audio_comes_from_polly_in_the_format_asked_for() {
    let moto = Moto::start();
    let app = common::spawn(common::speaking(&moto).await).await;
    let (_, json_answer) = app
        .post_json("/v1/ask", &json!({"text": "how is checkout doing"}))
        .await;
    for (accept, content_type) in [
        ("audio/mpeg", "audio/mpeg"),
        ("audio/ogg", "audio/ogg"),
        ("audio/pcm", "audio/pcm;rate=16000"),
        ("application/json;q=0.2, audio/mpeg", "audio/mpeg"),
    ] {
        let response = app
            .client
            .post(format!("{}/v1/ask", app.base))
            .header("accept", accept)
            .json(&json!({"text": "how is checkout doing", "session_id": "room-9"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{accept}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], content_type, "{accept}");
        assert_eq!(headers["x-opsvoice-session-id"], "room-9");
        assert_eq!(headers["x-opsvoice-intent"], "ServiceHealth");
        let text =
            percent_encoding::percent_decode_str(headers["x-opsvoice-text"].to_str().unwrap())
                .decode_utf8()
                .unwrap()
                .into_owned();
        assert_eq!(text, json_answer["text"].as_str().unwrap());
        let audio = response.bytes().await.unwrap();
        assert!(!audio.is_empty(), "{accept}: audio bytes");
    }

    let (status, refused) = {
        let response = app
            .client
            .post(format!("{}/v1/ask", app.base))
            .header("accept", "audio/wav")
            .json(&json!({"text": "how is checkout doing"}))
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    assert_eq!(status, 406);
    assert_eq!(refused["error"]["code"], "not_acceptable");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("audio/mpeg")
    );
}

#[tokio::test]
async fn speech_longer_than_pollys_limit_is_spoken_in_several_requests() {
    let moto = Moto::start();
    let assistant = common::speaking(&moto).await;
    let sentence = "Checkout & payments are <degraded>: 3 of 4 tasks running, 2 alarms firing.";
    let speech = Speech::Sentences(vec![sentence.to_owned(); 120]);
    let total: usize = 120 * sentence.len();
    assert!(total > 6000, "longer than one request may be");
    let audio = assistant
        .voice()
        .synthesize(&speech, AudioFormat::Mp3)
        .await
        .unwrap();
    assert!(audio.requests >= 3, "{} requests", audio.requests);
    assert!(!audio.truncated);
    // moto answers each request with the same placeholder; the parts are joined in order.
    assert_eq!(audio.bytes.len() % audio.requests, 0);
    assert!(!audio.bytes.is_empty());
}

#[tokio::test]
async fn without_polly_the_answer_still_arrives_with_a_clear_error() {
    // Nothing listens on port 9 of loopback: the call fails at once.
    let sdk = common::moto::sdk_for("http://127.0.0.1:9").await;
    let assistant = common::demo(opsvoice::auth::Identity::open())
        .voice(Voice::with_client(
            Polly::default(),
            aws_sdk_polly::Client::new(&sdk),
        ))
        .build()
        .unwrap();
    let app = common::spawn(assistant).await;
    let started = std::time::Instant::now();
    let response = app
        .client
        .post(format!("{}/v1/ask", app.base))
        .header("accept", "audio/mpeg")
        .json(&json!({"text": "any alarms firing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "speech_unavailable");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("Polly"),
        "{body}"
    );
    assert_eq!(body["answer"]["intent"], "ActiveAlarms", "nothing is lost");
    assert!(body["answer"]["text"].as_str().unwrap().contains("alarm"));
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
}
