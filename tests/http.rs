//! The HTTP surface beyond /lex: /v1/ask with server-side sessions, health, readiness,
//! metrics, request ids, and JSON errors for unknown routes and methods.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::spawn_demo;
use serde_json::json;

#[tokio::test]
async fn ask_answers_and_keeps_the_conversation_by_session_id() {
    let app = spawn_demo().await;
    let (status, r) = app
        .post_json("/v1/ask", &json!({"text": "how is checkout doing"}))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["intent"], "ServiceHealth");
    assert_eq!(r["slots"]["service"], "checkout");
    assert_eq!(r["end_session"], false);
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .starts_with("checkout is degraded")
    );
    common::assert_valid_ssml(r["ssml"].as_str().unwrap());
    let session = r["session_id"].as_str().unwrap().to_owned();
    assert!(!session.is_empty());

    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "and did its deploy finish?", "session_id": session}),
        )
        .await;
    assert_eq!(r["intent"], "DeploymentStatus", "{r}");
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .starts_with("checkout's last deploy"),
        "{r}"
    );
    assert_eq!(r["session_id"], session.as_str());

    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "tell me more", "session_id": session}),
        )
        .await;
    assert!(
        r["text"].as_str().unwrap().contains("ago:"),
        "detail lists events: {r}"
    );

    let (_, r) = app
        .post_json("/v1/ask", &json!({"text": "stop", "session_id": session}))
        .await;
    assert_eq!(r["end_session"], true);
}

#[tokio::test]
async fn ask_resolves_near_ties_and_likely_names_by_asking_back() {
    let app = spawn_demo().await;
    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "how is sender doing", "session_id": "room-1"}),
        )
        .await;
    assert_eq!(r["text"], "Did you mean email-sender or sms-sender?");
    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "the sms one", "session_id": "room-1"}),
        )
        .await;
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .starts_with("sms-sender is healthy"),
        "{r}"
    );

    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "is fraud ok", "session_id": "room-2"}),
        )
        .await;
    assert_eq!(r["text"], "Did you mean fraud-check?");
    let (_, r) = app
        .post_json("/v1/ask", &json!({"text": "yes", "session_id": "room-2"}))
        .await;
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .starts_with("fraud-check is healthy"),
        "{r}"
    );

    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "what's the deployment status", "session_id": "room-3"}),
        )
        .await;
    assert_eq!(r["text"], "Which service?");
    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "payments api", "session_id": "room-3"}),
        )
        .await;
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .starts_with("payments-api is still deploying"),
        "{r}"
    );
}

#[tokio::test]
async fn ask_rejects_bad_requests_with_clear_json() {
    let app = spawn_demo().await;
    for (body, fragment) in [
        (json!({"text": "   "}), "`text` is empty"),
        (json!({"text": "x".repeat(2000)}), "longer than 1024"),
        (
            json!({"text": "hi", "session_id": "no spaces allowed"}),
            "session_id",
        ),
        (json!({"text": 5}), "text: invalid type"),
        (json!({"question": "hi"}), "missing field `text`"),
    ] {
        let (status, r) = app.post_json("/v1/ask", &body).await;
        assert_eq!(status, 422, "{body}: {r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(fragment),
            "{r}"
        );
    }
}

#[tokio::test]
async fn health_readiness_and_metrics_are_served() {
    let app = spawn_demo().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    let r: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(r, json!({"status": "ready", "backend": "demo"}));

    app.post_json("/lex", &common::fixture("lex/service-health-voice.json"))
        .await;
    app.post_raw("/lex", b"{".to_vec()).await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    let has = |needle: &str| {
        text.lines()
            .any(|l| needle.split('*').all(|part| l.contains(part)))
    };
    assert!(
        has("opsvoice_http_requests_total*route=\"/lex\"*status=\"200\"*intent=\"ServiceHealth\""),
        "{text}"
    );
    assert!(
        has("opsvoice_http_requests_total*route=\"/lex\"*status=\"400\""),
        "{text}"
    );
    assert!(
        has("opsvoice_http_request_duration_seconds_bucket*route=\"/lex\""),
        "{text}"
    );
    assert!(
        has("opsvoice_answers_total*intent=\"ServiceHealth\""),
        "{text}"
    );
}

#[tokio::test]
async fn request_ids_are_made_or_propagated() {
    let app = spawn_demo().await;
    let r = app.get("/healthz").await;
    let id = r.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_demo().await;
    let r = app.get("/nope").await;
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["message"], "no route for GET /nope");
    let r = app.get("/lex").await;
    assert_eq!(r.status(), 405);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}
