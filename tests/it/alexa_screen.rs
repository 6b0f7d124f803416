//! Echo Show: an `Alexa.Presentation.APL.RenderDocument` beside the answers to
//! ServiceHealth, ActiveAlarms and FleetSummary on a device that renders APL, none on a
//! voice-only one; the document as the APL reference documents it, the data bound into it
//! inert, and the directive as the ASK SDK's own model reads it.
#![allow(clippy::unwrap_used)]

use crate::common;

use aws_sdk_cloudwatch::types::StateValue;
use serde_json::{Value, json};

use common::moto::{Fleet, Live, Moto};

const APL: &str = "Alexa.Presentation.APL.RenderDocument";

/// The shared ServiceHealth fixture as `intent` with `slots`, from a device that supports
/// `interfaces`.
fn envelope(intent: &str, slots: Value, interfaces: Value) -> Value {
    let mut body = common::fixture("alexa/service-health.json");
    body["request"]["intent"]["name"] = json!(intent);
    body["request"]["intent"]["slots"] = slots;
    body["context"]["System"]["device"]["supportedInterfaces"] = interfaces;
    body
}

fn checkout() -> Value {
    common::fixture("alexa/service-health.json")["request"]["intent"]["slots"].clone()
}

fn screen() -> Value {
    json!({"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2024.3"}}})
}

async fn answer(assistant: &opsvoice::channel::Assistant, body: &Value) -> Value {
    let envelope = serde_json::from_value(body.clone()).unwrap();
    let r = serde_json::to_value(assistant.alexa(&envelope).await).unwrap();
    common::assert_valid_alexa_response(&r);
    r
}

fn apl_directives(r: &Value) -> Vec<Value> {
    r["response"]["directives"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["type"] == APL)
        .cloned()
        .collect()
}

fn embedded_document() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("apl/status.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What APL shows of text bound into a `Text`: its character references decoded.
fn shown(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#36;", "$")
        .replace("&#35;", "#")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn an_apl_device_gets_the_answer_on_screen_for_the_three_intents() {
    let assistant = common::assistant();
    for (intent, slots) in [
        ("ServiceHealth", checkout()),
        ("ActiveAlarms", json!({})),
        ("FleetSummary", json!({})),
    ] {
        let r = answer(&assistant, &envelope(intent, slots, screen())).await;
        let apl = apl_directives(&r);
        assert_eq!(apl.len(), 1, "{intent}: {r}");
        let d = &apl[0];
        assert_eq!(d["token"], "opsvoice-status");
        // The document is the file, as it is: the answer is only in the datasources.
        assert_eq!(d["document"], embedded_document(), "{intent}");
        let data = &d["datasources"]["payload"]["opsvoice"];
        assert!(
            data["statusColor"]
                .as_str()
                .is_some_and(|c| c.starts_with('#') && c.len() == 7),
            "{data}"
        );
        let spoken =
            common::assert_valid_ssml(r["response"]["outputSpeech"]["ssml"].as_str().unwrap());
        let headline = shown(data["headline"].as_str().unwrap());
        assert!(
            !headline.is_empty() && spoken.contains(headline.trim_end_matches('.'))
                || intent != "ServiceHealth",
            "{headline} / {spoken}"
        );
        assert!(data["list"].is_array() && data["title"].is_string());
    }
    // The health answer: checkout is degraded, its firing alarm listed, its CPU drawn.
    let r = answer(&assistant, &envelope("ServiceHealth", checkout(), screen())).await;
    let data = &apl_directives(&r)[0]["datasources"]["payload"]["opsvoice"];
    assert_eq!(data["status"], "Degraded");
    assert_eq!(data["statusColor"], "#FF9900");
    assert!(
        data["list"][0]
            .as_str()
            .unwrap()
            .starts_with("checkout-p99-latency-high, firing for"),
        "{data}"
    );
    let line = &data["sparkline"];
    assert!(
        line["path"].as_str().unwrap().starts_with("M0.0,"),
        "{line}"
    );
    assert!(
        line["label"].as_str().unwrap().ends_with("the last hour"),
        "{line}"
    );
}

#[tokio::test]
async fn a_voice_only_device_gets_exactly_what_it_got_before() {
    let assistant = common::assistant();
    for (intent, slots) in [
        ("ServiceHealth", checkout()),
        ("ActiveAlarms", json!({})),
        ("FleetSummary", json!({})),
    ] {
        let voice = answer(&assistant, &envelope(intent, slots.clone(), json!({}))).await;
        assert!(apl_directives(&voice).is_empty(), "{voice}");
        let voice_bytes = serde_json::to_vec(&voice).unwrap();
        // No device object at all, or one with other interfaces: the same bytes.
        let mut bare = envelope(intent, slots.clone(), json!({}));
        bare["context"]["System"]
            .as_object_mut()
            .unwrap()
            .remove("device");
        let audio = envelope(intent, slots.clone(), json!({"AudioPlayer": {}}));
        for other in [bare, audio] {
            let again = serde_json::to_vec(&answer(&assistant, &other).await).unwrap();
            assert_eq!(again, voice_bytes, "{intent}");
        }
        // A screen gets the same response plus the one directive, nothing else changed.
        let mut on_screen = answer(&assistant, &envelope(intent, slots, screen())).await;
        let directives = on_screen["response"]["directives"].as_array_mut().unwrap();
        directives.retain(|d| d["type"] != APL);
        if directives.is_empty() {
            on_screen["response"]
                .as_object_mut()
                .unwrap()
                .remove("directives");
        }
        assert_eq!(
            serde_json::to_vec(&on_screen).unwrap(),
            voice_bytes,
            "{intent}"
        );
    }
    // A device whose APL is older than the document's version gets none either.
    let old = json!({"Alexa.Presentation.APL": {"runtime": {"maxVersion": "1.4"}}});
    let r = answer(&assistant, &envelope("ServiceHealth", checkout(), old)).await;
    assert!(apl_directives(&r).is_empty(), "{r}");
    // Nor does an answer a screen does not show (another intent).
    let r = answer(
        &assistant,
        &envelope("DeploymentStatus", checkout(), screen()),
    )
    .await;
    assert!(apl_directives(&r).is_empty(), "{r}");
}

/// Every `${...}` expression in `text`.
fn expressions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let end = rest[i..].find('}').map_or(rest.len(), |e| i + e + 1);
        out.push(rest[i..end].to_owned());
        rest = &rest[end.min(rest.len())..];
    }
    out
}

/// Walks the components under `item`, checking each one's documented required properties.
fn components(item: &Value, graphics: &serde_json::Map<String, Value>, seen: &mut Vec<String>) {
    let kind = item["type"].as_str().expect("every component has a type");
    seen.push(kind.to_owned());
    match kind {
        "Container" | "Frame" | "Text" | "Sequence" => {}
        "VectorGraphic" => {
            let source = item["source"]
                .as_str()
                .expect("VectorGraphic needs a source");
            let avg = graphics
                .get(source)
                .unwrap_or_else(|| panic!("graphic {source} is not in the document"));
            // AVG: type, version, height and width are required; each path its pathData.
            assert_eq!(avg["type"], "AVG");
            assert!(avg["version"].is_string());
            assert!(avg["height"].is_number() && avg["width"].is_number());
            for path in avg["items"].as_array().expect("AVG items") {
                assert_eq!(path["type"], "path");
                assert!(path["pathData"].is_string());
            }
            // Every AVG parameter it is given is one the graphic declares.
            let declared: Vec<&str> = avg["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for key in item.as_object().unwrap().keys() {
                let own = [
                    "type", "source", "width", "height", "scale", "align", "when",
                ];
                assert!(
                    own.contains(&key.as_str()) || declared.contains(&key.as_str()),
                    "{key} is neither a VectorGraphic property nor an AVG parameter"
                );
            }
        }
        other => panic!("component {other} is not one the document should use"),
    }
    if kind == "Text" {
        assert!(item["text"].is_string(), "a Text without text: {item}");
    }
    for child in item["items"].as_array().into_iter().flatten() {
        components(child, graphics, seen);
    }
}

#[test]
fn the_document_has_the_documented_structure() {
    let doc = embedded_document();
    assert_eq!(doc["type"], "APL");
    let version = doc["version"].as_str().unwrap();
    let (major, minor) = version.split_once('.').unwrap();
    assert!(
        major.parse::<u32>().unwrap() >= 2023 && minor.parse::<u32>().is_ok(),
        "{version}"
    );
    let main = &doc["mainTemplate"];
    assert_eq!(main["parameters"], json!(["payload"]));
    let items = main["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let graphics = doc["graphics"].as_object().unwrap();
    let mut seen = Vec::new();
    for item in items {
        components(item, graphics, &mut seen);
    }
    for kind in ["Container", "Frame", "Text", "VectorGraphic", "Sequence"] {
        assert!(seen.iter().any(|k| k == kind), "no {kind}");
    }
    // Data binds only from the datasource (or a Sequence's item, or an AVG parameter):
    // nothing else is referenced.
    for expression in expressions(&doc.to_string()) {
        assert!(
            [
                "${payload.opsvoice.",
                "${data}",
                "${pathData}",
                "${lineColor}"
            ]
            .iter()
            .any(|p| expression.starts_with(p)),
            "{expression}"
        );
    }
}

#[tokio::test]
async fn names_from_aws_are_bound_inert_and_the_sparkline_follows_the_data() {
    let hostile = "checkout-${payload.opsvoice.headline}-#{x}-\"q\"-<b>bold</b>&co";
    let moto = Moto::seeded(
        &Fleet::new()
            .service("prod", "checkout", 2)
            .alarm(
                hostile,
                "prod",
                "checkout",
                StateValue::Alarm,
                "Threshold Crossed",
            )
            .cpu(
                "prod",
                "checkout",
                &[(50, 10.0), (40, 20.0), (30, 90.0), (20, 30.0), (10, 40.0)],
            ),
    )
    .await;
    let live = Live::on(
        &moto.sdk().await,
        std::sync::Arc::new(opsvoice::ops::SystemClock),
    );
    for (intent, slots) in [("ActiveAlarms", json!({})), ("ServiceHealth", checkout())] {
        let r = answer(&live.assistant, &envelope(intent, slots, screen())).await;
        let apl = apl_directives(&r);
        assert_eq!(apl.len(), 1, "{intent}: {r}");
        let data = apl[0]["datasources"].to_string();
        for bad in ["${", "#{", "<b>", "</b>"] {
            assert!(!data.contains(bad), "{intent}: {bad} bound raw: {data}");
        }
        let line = apl[0]["datasources"]["payload"]["opsvoice"]["list"][0]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(shown(&line).starts_with(hostile), "{intent}: {line}");
        assert_eq!(apl[0]["document"], embedded_document());
        // The CPU series: five points, the peak (90, the third) at the top of the
        // viewport and the lowest (10, the first) at the bottom.
        let path = apl[0]["datasources"]["payload"]["opsvoice"]["sparkline"]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("{intent}: no sparkline: {data}"))
            .to_owned();
        let points: Vec<(f64, f64)> = path
            .split(' ')
            .map(|p| {
                let (x, y) = p[1..].split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(points.len(), 5, "{path}");
        assert_eq!(points[0], (0.0, 114.0), "{path}");
        assert_eq!(points[2], (300.0, 6.0), "{path}");
        assert_eq!(points[4].0, 600.0, "{path}");
    }
}

#[tokio::test]
async fn the_directive_deserializes_with_the_ask_sdk_model() {
    let assistant = common::assistant();
    let request = envelope("ServiceHealth", checkout(), screen());
    let response = answer(&assistant, &request).await;
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let script = r#"
import json, sys
try:
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective
except ImportError as e:
    sys.exit("the ASK SDK is not in .venv (run scripts/moto-venv.sh): %s" % e)
both = json.load(sys.stdin)
s = DefaultSerializer()
req = s.deserialize(json.dumps(both["request"]), "ask_sdk_model.request_envelope.RequestEnvelope")
apl = req.context.system.device.supported_interfaces.alexa_presentation_apl
assert apl is not None and apl.runtime.max_version == "2024.3", apl
res = s.deserialize(json.dumps(both["response"]), "ask_sdk_model.response_envelope.ResponseEnvelope")
docs = [d for d in res.response.directives if isinstance(d, RenderDocumentDirective)]
assert len(docs) == 1, res.response.directives
d = docs[0]
sent = [x for x in both["response"]["response"]["directives"] if x["type"] == d.object_type][0]
assert s.serialize(d) == sent, "the SDK reads it back differently"
assert d.token == "opsvoice-status" and d.document["type"] == "APL"
print("ok", type(d).__name__, d.object_type)
"#;
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run scripts/moto-venv.sh to install it",
                python.display()
            )
        });
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(
                &serde_json::to_vec(&json!({"request": request, "response": response})).unwrap(),
            )
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && stdout
                .starts_with("ok RenderDocumentDirective Alexa.Presentation.APL.RenderDocument"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_metric_that_cannot_be_read_leaves_the_screen_without_a_chart_not_the_answer() {
    use common::proxy::{Answer, Fault, Proxy};
    let moto = Moto::seeded(
        &Fleet::new()
            .service("prod", "checkout", 2)
            .alarm(
                "checkout-cpu-high",
                "prod",
                "checkout",
                StateValue::Alarm,
                "Threshold Crossed",
            )
            .cpu("prod", "checkout", &[(30, 10.0), (20, 50.0), (10, 20.0)]),
    )
    .await;
    let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    proxy.set(Fault::Inspect);
    let through = common::moto::sdk_for(&proxy.url).await;
    for injected in [
        Answer::query_error("GetMetricData", 500, "InternalServiceError"),
        Answer::hang("GetMetricData"),
    ] {
        proxy.answer(injected.clone());
        let live = Live::with(
            aws_sdk_ecs::Client::new(&through),
            aws_sdk_cloudwatch::Client::new(&through),
            std::sync::Arc::new(opsvoice::ops::SystemClock),
            &opsvoice::config::Config::default(),
        );
        let voice = answer(
            &live.assistant,
            &envelope("ServiceHealth", checkout(), json!({})),
        )
        .await;
        let started = std::time::Instant::now();
        let r = answer(
            &live.assistant,
            &envelope("ServiceHealth", checkout(), screen()),
        )
        .await;
        let took = started.elapsed();
        // The chart waits at most a second; the words are the same as without a screen.
        assert!(
            took < std::time::Duration::from_millis(1500),
            "{:?}: {took:?}",
            injected.action
        );
        assert_eq!(
            r["response"]["outputSpeech"],
            voice["response"]["outputSpeech"]
        );
        let apl = apl_directives(&r);
        assert_eq!(apl.len(), 1, "{r}");
        let data = &apl[0]["datasources"]["payload"]["opsvoice"];
        assert!(data["sparkline"].is_null(), "{data}");
        assert_eq!(data["status"], "Degraded");
        assert!(
            proxy.actions().iter().any(|a| a == "GetMetricData"),
            "{:?}",
            proxy.actions()
        );
    }
}
