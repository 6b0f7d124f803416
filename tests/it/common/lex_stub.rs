//! A loopback stand-in for the Lex V2 runtime (moto has none): it answers `RecognizeText`
//! the way Lex does for a bot whose intents call a code hook. It understands the text with
//! the same model `opsvoice models build` gives Lex, sends the code-hook event to the
//! webhook's `/lex`, keeps the session attributes the hook returns, and answers with the
//! hook's messages and session state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use opsvoice::models::lex::intent_name;
use opsvoice::nlu::Nlu;
use opsvoice::ops::OpsSource;

#[derive(Default)]
pub struct Seen {
    /// The request attributes of every call, in order.
    pub request_attributes: Mutex<Vec<HashMap<String, String>>>,
    pub calls: AtomicUsize,
}

struct Stub {
    hook: String,
    /// What the stand-in's NLU knows: the demo fleet's names, read once.
    nlu: Nlu,
    catalog: Arc<opsvoice::ops::Catalog>,
    alarms: Vec<String>,
    client: reqwest::Client,
    sessions: Mutex<HashMap<String, Value>>,
    throttle: AtomicBool,
    seen: Arc<Seen>,
}

pub struct LexStub {
    pub url: String,
    pub seen: Arc<Seen>,
    state: Arc<Stub>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl LexStub {
    /// A stub whose code hook is `hook` (e.g. `http://127.0.0.1:1234/lex`).
    pub async fn start(hook: String) -> Self {
        let seen = Arc::new(Seen::default());
        let demo = opsvoice::ops::demo::DemoFleet::new(Arc::new(opsvoice::ops::SystemClock));
        let state = Arc::new(Stub {
            hook,
            nlu: Nlu::embedded().unwrap(),
            catalog: demo.catalog().await.unwrap(),
            alarms: demo
                .all_alarms()
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.name)
                .collect(),
            client: reqwest::Client::new(),
            sessions: Mutex::new(HashMap::new()),
            throttle: AtomicBool::new(false),
            seen: seen.clone(),
        });
        let router = axum::Router::new()
            .route(
                "/bots/{bot}/botAliases/{alias}/botLocales/{locale}/sessions/{session}/text",
                post(recognize_text),
            )
            .with_state(state.clone());
        let (addr, stop) = super::serve_on_loopback(router).await;
        Self {
            url: format!("http://{addr}"),
            seen,
            state,
            _stop: stop,
        }
    }

    /// Makes every call fail as Lex does when throttling.
    pub fn throttle(&self, on: bool) {
        self.state.throttle.store(on, Ordering::SeqCst);
    }

    /// A Lex runtime client for this stub.
    pub async fn client(&self) -> aws_sdk_lexruntimev2::Client {
        aws_sdk_lexruntimev2::Client::new(&super::moto::sdk_for(&self.url).await)
    }
}

async fn recognize_text(
    State(stub): State<Arc<Stub>>,
    Path((bot, alias, locale, session)): Path<(String, String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    stub.seen.calls.fetch_add(1, Ordering::SeqCst);
    let attributes: HashMap<String, String> =
        serde_json::from_value(body["requestAttributes"].clone()).unwrap_or_default();
    stub.seen
        .request_attributes
        .lock()
        .unwrap()
        .push(attributes.clone());
    if stub.throttle.load(Ordering::SeqCst) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-amzn-errortype", "ThrottlingException")],
            Json(json!({ "message": "Rate exceeded" })),
        )
            .into_response();
    }
    let text = body["text"].as_str().unwrap_or_default();
    let understood = stub.nlu.understand(text, &stub.catalog, &stub.alarms, None);
    let name = intent_name(understood.intent.name()).to_owned();
    let slots: serde_json::Map<String, Value> = understood
        .slots
        .iter()
        .map(|(slot, value)| {
            (
                slot.name().to_owned(),
                json!({
                    "shape": "Scalar",
                    "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]}
                }),
            )
        })
        .collect();
    let intent = json!({
        "name": name, "slots": slots, "state": "ReadyForFulfillment", "confirmationState": "None"
    });
    let session_attributes = stub
        .sessions
        .lock()
        .unwrap()
        .get(&session)
        .cloned()
        .unwrap_or_else(|| json!({}));
    let event = json!({
        "messageVersion": "1.0",
        "invocationSource": "FulfillmentCodeHook",
        "inputMode": "Text",
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": session,
        "inputTranscript": text,
        "bot": {"id": bot, "name": "opsvoice", "aliasId": alias, "aliasName": "live", "localeId": locale, "version": "1"},
        "interpretations": [{"intent": intent, "nluConfidence": understood.confidence}],
        "requestAttributes": attributes,
        "sessionState": {"sessionAttributes": session_attributes, "intent": intent},
        "transcriptions": []
    });
    let hook: Value = stub
        .client
        .post(&stub.hook)
        .json(&event)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stub.sessions.lock().unwrap().insert(
        session.clone(),
        hook["sessionState"]["sessionAttributes"].clone(),
    );
    Json(json!({
        "messages": hook["messages"],
        "sessionState": hook["sessionState"],
        "interpretations": [{"intent": intent, "nluConfidence": {"score": understood.confidence}}],
        "requestAttributes": attributes,
        "sessionId": session,
    }))
    .into_response()
}
