//! Helpers shared by the integration tests: the app on the demo fleet with a fixed clock,
//! in-process or served on a loopback port.
#![allow(dead_code, clippy::unwrap_used)]

pub mod alexa_pki;
pub mod hosted_ui;
pub mod jwks;
pub mod lex_stub;
pub mod moto;
pub mod proxy;
pub mod slack_stub;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opsvoice::assistant::Assistant;
use opsvoice::auth::Identity;
use opsvoice::channel::ask::AskRequest;
use opsvoice::ops::demo::DemoFleet;
use opsvoice::ops::{Clock, FixedClock};

/// How many cases a proptest runs: `default` in the test command, or `PROPTEST_CASES` when
/// set, for a longer hunt (`PROPTEST_CASES=20000 cargo test --test hostile`).
pub fn cases(default: u32) -> u32 {
    match std::env::var("PROPTEST_CASES") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("PROPTEST_CASES must be a number of cases, not {v:?}")),
        Err(_) => default,
    }
}

/// The answer to `text`, in a fresh session, from the demo fleet reading the event log in
/// `store` at `clock`'s time (the app built as `serve` builds it).
pub async fn ask_with_log(
    clock: Arc<dyn Clock>,
    store: Arc<dyn opsvoice::store::Store>,
    text: &str,
) -> opsvoice::channel::ask::AskResponse {
    let assistant = opsvoice::builder(&opsvoice::config::Config::default())
        .clock(clock)
        .store(store)
        .lex(None)
        .assistant()
        .await
        .unwrap();
    assistant
        .ask(
            AskRequest {
                text: text.to_owned(),
                session_id: None,
            },
            None,
        )
        .await
        .unwrap()
}

/// Collects everything a subscriber logs (for tests that read the log lines); run such a
/// test alone ([`alone`]).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything logged so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs each of `tests` (full names, `module::test`) alone, in a child process of this
/// test binary, and fails with its output unless it passed. For tests that read what is
/// process-wide: the metrics recorder, or the thread's log subscriber (whose call-site
/// cache other suites, logging on other threads, would disturb). Such a test is marked
/// `#[ignore = "..."]` so the parallel run leaves it to this.
pub fn alone(tests: &[&str]) {
    for test in tests {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--ignored", "--test-threads=1"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{test}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// 2026-11-22T10:00:00Z: the fixtures' day.
pub const NOW: u64 = 1_795_341_600;

pub fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
    ))
}

/// The demo assistant anyone may ask (as with no configuration).
pub fn assistant() -> Arc<Assistant> {
    demo(Identity::open()).build().unwrap()
}

/// The assistant on the demo fleet at the fixtures' time, letting in whom `identity` lets in.
pub fn demo(identity: Identity) -> opsvoice::assistant::Builder {
    let clock = clock();
    let fleet = DemoFleet::new(clock.clone());
    // Acting on the demo, as `serve` does with no configuration: its records in a
    // database file of this assistant's own (simulated effects, nothing real).
    let path = std::env::temp_dir().join(format!(
        "opsvoice-it-{}-{}.db",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let store: Arc<dyn opsvoice::store::Store> =
        Arc::new(opsvoice::store::file::FileStore::open(&path, clock.clone()).unwrap());
    let desk = opsvoice::act::desk::Desk::new(
        store.clone(),
        clock.clone(),
        opsvoice::act::Gate::new(false),
        fleet.effector(),
        None,
    );
    Assistant::builder(Arc::new(fleet), clock, identity)
        .desk(Arc::new(desk))
        .event_log(store)
        .logs(Arc::new(opsvoice::ops::logs::demo::DemoLogs::new()))
}

pub struct Reply {
    pub intent: opsvoice::dialog::Intent,
    pub text: String,
    pub ssml: String,
}

pub struct DemoApp {
    pub assistant: Arc<Assistant>,
}

impl DemoApp {
    /// Asks one question in a fresh session.
    pub async fn ask(&self, question: &str) -> Reply {
        let r = self
            .assistant
            .ask(
                AskRequest {
                    text: question.to_owned(),
                    session_id: None,
                },
                None,
            )
            .await
            .unwrap();
        Reply {
            intent: opsvoice::dialog::Intent::parse(&r.intent).unwrap(),
            text: r.text,
            ssml: r.ssml,
        }
    }
}

pub fn demo_app() -> DemoApp {
    DemoApp {
        assistant: assistant(),
    }
}

/// Reads a fixture from tests/fixtures (copies of the shared ones; see `fixtures.rs`).
pub fn fixture(path: &str) -> serde_json::Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    let raw = std::fs::read_to_string(&full)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()));
    serde_json::from_str(&raw).unwrap()
}

/// The app served on a loopback port; stops when dropped.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestApp {
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.post_raw(path, serde_json::to_vec(body).unwrap()).await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!("{path} answered {status} with a body that is not JSON: {text:?}")
        });
        (status, json)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
}

/// Serves `assistant` on 127.0.0.1:0.
pub async fn spawn(assistant: Arc<Assistant>) -> TestApp {
    let verifier =
        opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, clock()).unwrap();
    spawn_with(assistant, verifier).await
}

/// Serves `assistant` on 127.0.0.1:0 with an Alexa verifier of the test's choosing.
pub async fn spawn_with(
    assistant: Arc<Assistant>,
    verifier: opsvoice::channel::alexa::verify::Verifier,
) -> TestApp {
    let config = opsvoice::config::Config::default();
    let connections = opsvoice::server::Connections::for_config(&config);
    spawn_configured(assistant, verifier, &config, connections).await
}

/// Serves `assistant` on 127.0.0.1:0 with the test's own limits and connection bounds.
pub async fn spawn_configured(
    assistant: Arc<Assistant>,
    verifier: opsvoice::channel::alexa::verify::Verifier,
    config: &opsvoice::config::Config,
    connections: opsvoice::server::Connections,
) -> TestApp {
    let state = opsvoice::builder(config)
        .with_assistant(assistant)
        .alexa(verifier)
        .build()
        .await
        .unwrap();
    let router = opsvoice::server::router(state, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(opsvoice::server::run(
        listener,
        router,
        connections,
        async move {
            let _ = stopped.await;
        },
    ));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        _stop: stop,
    }
}

/// Serves the app over `state` on `listener` (bound first, when the configuration must
/// name the app's own address).
pub async fn serve_state(
    listener: tokio::net::TcpListener,
    state: opsvoice::server::AppState,
    config: &opsvoice::config::Config,
) -> TestApp {
    let router = opsvoice::server::router(state, config);
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(opsvoice::server::run(
        listener,
        router,
        opsvoice::server::Connections::for_config(config),
        async move {
            let _ = stopped.await;
        },
    ));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _stop: stop,
    }
}

/// Serves `router` on a loopback port until the returned sender is dropped.
pub async fn serve_on_loopback(
    router: axum::Router,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (addr, stop)
}

/// The demo app on a loopback port.
pub async fn spawn_demo() -> TestApp {
    spawn(assistant()).await
}

fn utf16(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Checks a Lex V2 code-hook response against the documented rules (REFERENCE.md).
pub fn assert_valid_lex_response(r: &serde_json::Value) {
    let bytes = serde_json::to_vec(r).unwrap().len();
    assert!(bytes <= 25 * 1024, "response is {bytes} bytes");
    let state = &r["sessionState"];
    let action = &state["dialogAction"];
    let kind = action["type"].as_str().expect("dialogAction.type");
    assert!(
        [
            "Close",
            "ConfirmIntent",
            "Delegate",
            "ElicitIntent",
            "ElicitSlot"
        ]
        .contains(&kind),
        "bad type {kind}"
    );
    if kind == "ElicitSlot" {
        assert!(
            action["slotToElicit"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "ElicitSlot needs slotToElicit"
        );
    }
    if !["Delegate", "ElicitIntent"].contains(&kind) {
        assert!(
            state["intent"]["name"].as_str().is_some(),
            "{kind} needs an intent: {r}"
        );
    }
    if kind == "Close" {
        let s = state["intent"]["state"].as_str().unwrap();
        assert!(s == "Fulfilled" || s == "Failed", "Close with state {s}");
    }
    let messages = r["messages"].as_array().cloned().unwrap_or_default();
    if ["ElicitIntent", "ConfirmIntent"].contains(&kind) {
        assert!(!messages.is_empty(), "{kind} needs messages");
    }
    assert!(messages.len() <= 10);
    for m in &messages {
        match m["contentType"].as_str().unwrap() {
            "PlainText" | "SSML" | "CustomPayload" => {
                let c = m["content"].as_str().unwrap();
                assert!(
                    (1..=1024).contains(&utf16(c)),
                    "content length {}",
                    utf16(c)
                );
                if m["contentType"] == "SSML" {
                    assert_valid_ssml(c);
                }
            }
            "ImageResponseCard" => {
                let card = &m["imageResponseCard"];
                let title = card["title"].as_str().unwrap();
                assert!((1..=250).contains(&utf16(title)));
                if let Some(sub) = card["subtitle"].as_str() {
                    assert!((1..=250).contains(&utf16(sub)));
                }
                let buttons = card["buttons"].as_array().cloned().unwrap_or_default();
                assert!(buttons.len() <= 5);
                for b in buttons {
                    for field in ["text", "value"] {
                        let v = b[field].as_str().unwrap();
                        assert!((1..=50).contains(&utf16(v)), "button {field} {v:?}");
                    }
                }
            }
            other => panic!("bad contentType {other}"),
        }
    }
    let attrs = state["sessionAttributes"]
        .as_object()
        .expect("sessionAttributes");
    let attr_bytes: usize = attrs
        .iter()
        .map(|(k, v)| k.len() + v.as_str().expect("string attribute").len())
        .sum();
    assert!(attr_bytes <= 12 * 1024);
    assert!(
        !attrs.contains_key("authorization"),
        "a credential was echoed"
    );
}

/// The tags Polly's neural voices accept (REFERENCE.md); we emit a subset.
pub const NEURAL_SAFE_TAGS: &[&str] = &[
    "speak",
    "s",
    "p",
    "break",
    "lang",
    "mark",
    "prosody",
    "say-as",
    "sub",
    "w",
    "amazon:domain",
];

/// Marks a sentence boundary in extracted text (a character the builder never emits).
const SENTENCE_GAP: char = '\u{1}';

/// Parses SSML as XML: one `<speak>` root, neural-safe tags only, within Polly's limits.
/// Returns the text content.
/// The documented response structure (REFERENCE.md, Alexa "Response").
pub fn assert_valid_alexa_response(r: &serde_json::Value) {
    assert_eq!(r["version"], "1.0");
    assert!(serde_json::to_vec(r).unwrap().len() <= 24 * 1024);
    let response = r["response"].as_object().expect("response object");
    if let Some(speech) = response.get("outputSpeech") {
        match speech["type"].as_str().unwrap() {
            "SSML" => {
                let ssml = speech["ssml"].as_str().unwrap();
                assert!(ssml.chars().count() <= 8000);
                assert_valid_ssml(ssml);
            }
            "PlainText" => assert!(speech["text"].as_str().unwrap().chars().count() <= 8000),
            other => panic!("outputSpeech type {other}"),
        }
    }
    if let Some(card) = response.get("card") {
        match card["type"].as_str().unwrap() {
            "Simple" => {
                let chars = card["title"].as_str().unwrap().chars().count()
                    + card["content"].as_str().unwrap().chars().count();
                assert!(chars <= 8000);
            }
            "LinkAccount" => {}
            other => panic!("card type {other}"),
        }
    }
    if let Some(end) = response.get("shouldEndSession") {
        let end = end.as_bool().expect("shouldEndSession is a boolean");
        if !end && response.contains_key("outputSpeech") {
            let reprompt = &response["reprompt"]["outputSpeech"];
            assert_eq!(
                reprompt["type"], "SSML",
                "an open session needs a reprompt: {r}"
            );
            assert_valid_ssml(reprompt["ssml"].as_str().unwrap());
        }
    }
    for d in response
        .get("directives")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        match d["type"].as_str().unwrap() {
            "Dialog.Delegate" => {}
            "Dialog.ElicitSlot" => assert!(d["slotToElicit"].is_string()),
            "Dialog.ConfirmSlot" => assert!(d["slotToConfirm"].is_string()),
            "Dialog.ConfirmIntent" => assert!(d["updatedIntent"]["name"].is_string()),
            "Alexa.Presentation.APL.RenderDocument" => {
                assert!(d["token"].as_str().is_some_and(|t| !t.is_empty()), "{d}");
                assert_eq!(d["document"]["type"], "APL");
                assert!(d["document"]["mainTemplate"].is_object());
                assert!(d["datasources"].is_object());
            }
            other => panic!("directive {other}"),
        }
        if let Some(updated) = d.get("updatedIntent") {
            assert!(updated["name"].is_string() && updated["confirmationStatus"].is_string());
        }
    }
    if let Some(attrs) = r.get("sessionAttributes") {
        assert!(attrs.get("authorization").is_none());
    }
    assert!(
        !r.to_string().contains("Cognito access token"),
        "a token was echoed: {r}"
    );
}

pub fn assert_valid_ssml(ssml: &str) -> String {
    use quick_xml::events::Event;
    assert!(
        ssml.starts_with("<speak>"),
        "does not start with <speak>: {ssml}"
    );
    assert!(ssml.chars().count() <= 6000, "over 6000 characters");
    let mut reader = quick_xml::Reader::from_str(ssml);
    let mut depth = 0usize;
    let mut roots = 0;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert!(
                    NEURAL_SAFE_TAGS.contains(&name.as_str()),
                    "tag <{name}> is not neural-safe"
                );
                if depth == 0 {
                    roots += 1;
                    assert_eq!(name, "speak");
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert!(
                    NEURAL_SAFE_TAGS.contains(&name.as_str()),
                    "tag <{name}/> is not neural-safe"
                );
                assert!(depth > 0);
            }
            Ok(Event::End(e)) => {
                depth -= 1;
                if matches!(e.name().as_ref(), b"s" | b"p") {
                    text.push(SENTENCE_GAP);
                }
            }
            Ok(Event::Text(t)) => {
                assert!(depth > 0, "text outside <speak>");
                text.push_str(&t.xml_content().expect("valid escapes"));
            }
            Ok(Event::GeneralRef(r)) => {
                assert!(depth > 0);
                let name = String::from_utf8(r.to_vec()).unwrap();
                text.push(match name.as_str() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("unknown entity &{other};"),
                });
            }
            Ok(Event::Eof) => break,
            Ok(other) => panic!("unexpected XML {other:?} in {ssml}"),
            Err(e) => panic!("not XML ({e}): {ssml}"),
        }
    }
    assert_eq!(depth, 0);
    assert_eq!(roots, 1);
    // Billed characters are the text alone, not the spaces this function puts between
    // sentences for readability.
    let billed = text.chars().count() - text.matches(SENTENCE_GAP).count();
    assert!(billed <= 3000, "{billed} billed characters, over 3000");
    text.replace(SENTENCE_GAP, " ").trim_end().to_owned()
}

/// The demo assistant speaking with moto's Polly (warmed first: a cold moto loads its Polly
/// backend on the first call, which is setup, not what is tested).
pub async fn speaking(moto: &moto::Moto) -> Arc<Assistant> {
    let sdk = moto.sdk().await;
    let patient = aws_sdk_polly::config::Builder::from(&sdk)
        .timeout_config(moto::patient())
        .build();
    aws_sdk_polly::Client::from_conf(patient)
        .describe_voices()
        .send()
        .await
        .unwrap();
    demo(Identity::open())
        .voice(opsvoice::speech::polly::Voice::with_client(
            opsvoice::config::Polly::default(),
            aws_sdk_polly::Client::new(&sdk),
        ))
        .build()
        .unwrap()
}

/// A PNG decoded with the `png` crate: width, height and RGB pixels (RGBA is flattened).
pub fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sized PNG")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let pixels = buf[..info.buffer_size()]
        .chunks(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, pixels)
}
