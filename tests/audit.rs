//! Logs: every question leaves one audit event, and no token ever reaches a log line.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;

/// Collects everything logged, as JSON lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn each_question_is_audited_and_tokens_never_reach_the_logs() {
    let capture = Capture::default();
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

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
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
