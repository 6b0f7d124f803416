//! The HTTP surface beyond /lex: /v1/ask with server-side sessions, health, readiness,
//! metrics, request ids, JSON errors for unknown routes and methods, and clients that are
//! slow to send their head or body, or that idle on a kept-alive connection.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::time::{Duration, Instant};

use common::spawn_demo;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Defect: "payments's last deploy", and "6 hours ago: has reached a steady state." (a raw
/// ECS event with its subject cut off, glued to an age).
#[tokio::test]
async fn deploy_answers_are_sentences_a_person_would_say() {
    let app = spawn_demo().await;
    for (question, owner) in [
        ("did the payments deploy finish", "payments' "),
        ("is the checkout deploy done", "checkout's "),
    ] {
        let (_, r) = app.post_json("/v1/ask", &json!({"text": question})).await;
        let text = r["text"].as_str().unwrap();
        assert!(text.starts_with(owner), "{question}: {text}");
        assert!(!text.contains("s's "), "{question}: {text}");
        let (_, more) = app
            .post_json(
                "/v1/ask",
                &json!({"text": "tell me more", "session_id": r["session_id"]}),
            )
            .await;
        for text in [
            more["text"].as_str().unwrap(),
            more["ssml"].as_str().unwrap(),
        ] {
            assert!(
                text.contains(" ago: "),
                "{question}: detail lists events: {text}"
            );
            for bare in [
                "ago: has ",
                "ago: is ",
                "ago: was ",
                "ago: rolling ",
                "ago: deployment ",
            ] {
                assert!(
                    !text.contains(bare),
                    "{question}: an event without its subject: {text}"
                );
            }
            assert!(
                !text.contains(" 1 tasks") && !text.contains(" 1 running tasks"),
                "{text}"
            );
        }
    }
}

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
            &json!({"text": "is image resizr ok", "session_id": "room-2"}),
        )
        .await;
    assert_eq!(r["text"], "Did you mean image-resizer?");
    let (_, r) = app
        .post_json("/v1/ask", &json!({"text": "yes", "session_id": "room-2"}))
        .await;
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .starts_with("image-resizer is healthy"),
        "{r}"
    );
    // A word of one service's name and no other's is that service: no need to ask.
    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "is fraud ok", "session_id": "room-4"}),
        )
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

/// The demo app with short bounds: heads within 300 ms, and (a 1.5 s request timeout less
/// a 1 s answer deadline) bodies within 500 ms.
async fn spawn_strict() -> common::TestApp {
    let config = opsvoice::config::Config {
        server: opsvoice::config::Server {
            request_timeout: Duration::from_millis(1500),
            answer_deadline: Duration::from_millis(1000),
            ..opsvoice::config::Server::default()
        },
        ..opsvoice::config::Config::default()
    };
    let connections = opsvoice::server::Connections {
        head_timeout: HEAD_TIMEOUT,
        ..opsvoice::server::Connections::for_config(&config)
    };
    let verifier =
        opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, common::clock())
            .unwrap();
    common::spawn_configured(common::assistant(), verifier, &config, connections).await
}

const HEAD_TIMEOUT: Duration = Duration::from_millis(300);

/// Reads until the server closes the connection (or resets it), failing after 5 s.
async fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server held the connection open for 5 s");
    (out, started.elapsed())
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let app = spawn_strict().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"POST /lex HTTP/1.1\r\nHost: opsvoice\r\n")
        .await
        .unwrap();
    let (_, after) = read_until_closed(&mut stream).await;
    assert!(
        after >= HEAD_TIMEOUT - Duration::from_millis(50),
        "closed after {after:?}"
    );
    // The server still answers everyone else.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_head_timeout() {
    let app = spawn_strict().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: opsvoice\r\n\r\n")
        .await
        .unwrap();
    let (out, after) = read_until_closed(&mut stream).await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    assert!(out.ends_with(r#"{"status":"ok"}"#), "{out}");
    assert!(
        after >= HEAD_TIMEOUT - Duration::from_millis(50),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_a_408_that_says_so() {
    let app = spawn_strict().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(
            b"POST /lex HTTP/1.1\r\nHost: opsvoice\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"sessionId\":",
        )
        .await
        .unwrap();
    let (out, after) = read_until_closed(&mut stream).await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 408 Request Timeout"), "{out}");
    let body: serde_json::Value =
        serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "body_timeout");
    assert_eq!(
        body["error"]["message"],
        "the request body did not arrive within 500 ms"
    );
    // Within the body's window, not the whole request timeout.
    assert!(
        after >= Duration::from_millis(450),
        "answered after {after:?}"
    );
    assert!(
        after < Duration::from_millis(1500),
        "answered after {after:?}"
    );
    // A request that did arrive is answered and counted; the slow one is counted as a 408.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("opsvoice_http_requests_total")
                && l.contains(r#"route="/lex""#)
                && l.contains(r#"status="408""#)),
        "{metrics}"
    );
}

/// Hardening: `Expect: 100-continue` with a 10 GB `Content-Length` got `100 Continue`,
/// inviting the client to send it, instead of an immediate 413.
#[tokio::test]
async fn an_announced_oversized_body_is_refused_before_it_is_invited() {
    let app = spawn_demo().await;
    let addr = app.base.trim_start_matches("http://").trim_end_matches('/');
    for path in ["/lex", "/alexa", "/v1/ask"] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: 10737418240\r\nExpect: 100-continue\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer without sending the body")
            .unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(!answer.contains("100 Continue"), "{path}: {answer}");
        assert!(answer.contains("body_too_large"), "{path}: {answer}");
    }
}

/// Every POST route the app serves.
const POST_ROUTES: [&str; 7] = [
    "/lex",
    "/alexa",
    "/v1/ask",
    "/slack/events",
    "/slack/commands",
    "/slack/interactions",
    "/events",
];

/// Sends `body` to `path` chunked (no `Content-Length`, so only reading it finds its size)
/// and returns the status and the JSON body of the answer.
async fn post_chunked(app: &common::TestApp, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(16 * 1024) {
        // The server may answer (and close) before the whole body is sent.
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let (raw, _) = read_until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{path}: no status line in {text:?}"));
    let (_, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{path}: {text:?}"));
    // The body may itself be chunked: take the JSON object inside it.
    let json = rest
        .find('{')
        .and_then(|start| rest.rfind('}').map(|end| &rest[start..=end]))
        .unwrap_or_else(|| panic!("{path} answered {status} with no JSON: {text:?}"));
    (status, serde_json::from_str(json).unwrap())
}

/// "A house that fails closed": the server's own routes, Slack's and `/events` each had
/// their own error body and their own answer to a body over the limit (Slack said
/// `bad_body`, `/events` a 400). One shape now: `{"error": {"code", "message"}}`, and the
/// same 413 on every route.
#[tokio::test]
async fn every_route_answers_an_oversized_or_malformed_body_with_the_same_error_shape() {
    let app = spawn_demo().await;
    let oversized = vec![b' '; 70 * 1024];
    let mut too_large = Vec::new();
    for path in POST_ROUTES {
        let (status, body) = post_chunked(&app, path, &oversized).await;
        too_large.push((path, status, body["error"].clone()));
    }
    for (path, status, error) in &too_large {
        assert_eq!(*status, 413, "{path}: {error}");
        assert_eq!(error["code"], "body_too_large", "{path}: {error}");
        assert_eq!(error, &too_large[0].2, "{path}: the same error everywhere");
    }
    for path in POST_ROUTES {
        for garbage in [&b"{\"not\": json"[..], b"\x00\xff", b"[1, 2, 3]"] {
            let (status, body) = post_chunked(&app, path, garbage).await;
            assert!((400..500).contains(&status), "{path}: {status} {body}");
            let error = body["error"]
                .as_object()
                .unwrap_or_else(|| panic!("{path}: {body}"));
            assert_eq!(error.len(), 2, "{path}: {body}");
            assert!(
                error["code"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()
                        && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')),
                "{path}: {body}"
            );
            assert!(
                error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{path}: {body}"
            );
        }
    }
}
