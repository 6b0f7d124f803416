//! `POST /lex` end to end: the shared fixtures, the follow-up chain, elicitation, Slack
//! cards, tolerance of real-world event shapes, and failures that must still be spoken.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{assert_valid_lex_response, fixture, spawn, spawn_demo};
use opsvoice::ops::*;
use serde_json::{Value, json};

fn message(r: &Value, i: usize) -> (&str, &str) {
    let m = &r["messages"][i];
    (
        m["contentType"].as_str().unwrap_or(""),
        m["content"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn the_voice_fixture_gets_a_spoken_verdict_first_answer() {
    let app = spawn_demo().await;
    let (status, r) = app
        .post_json("/lex", &fixture("lex/service-health-voice.json"))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "Close");
    assert_eq!(r["sessionState"]["intent"]["name"], "ServiceHealth");
    assert_eq!(r["sessionState"]["intent"]["state"], "Fulfilled");
    let (kind, content) = message(&r, 0);
    assert_eq!(kind, "SSML");
    let spoken = common::assert_valid_ssml(content);
    assert!(
        spoken.starts_with(
            "checkout is degraded: 2 of 3 tasks running, 1 alarm firing for 12 minutes."
        ),
        "{spoken}"
    );
    assert!(spoken.split_whitespace().count() <= 35, "{spoken}");
}

#[tokio::test]
async fn the_follow_up_fixture_answers_about_the_service_from_the_first_turn() {
    let app = spawn_demo().await;
    let (_, first) = app
        .post_json("/lex", &fixture("lex/service-health-voice.json"))
        .await;
    let mut follow_up = fixture("lex/follow-up.json");
    follow_up["sessionState"]["sessionAttributes"] =
        first["sessionState"]["sessionAttributes"].clone();
    let (status, r) = app.post_json("/lex", &follow_up).await;
    assert_eq!(status, 200, "{r}");
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "Close");
    assert_eq!(r["sessionState"]["intent"]["name"], "DeploymentStatus");
    assert_eq!(
        r["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"],
        "checkout"
    );
    let spoken = common::assert_valid_ssml(message(&r, 0).1);
    assert!(
        spoken.starts_with("checkout's last deploy, revision 42, finished 44 minutes ago"),
        "{spoken}"
    );

    // Without the first turn's attributes there is nothing to follow up on.
    let (_, r) = app.post_json("/lex", &fixture("lex/follow-up.json")).await;
    assert_eq!(r["sessionState"]["dialogAction"]["slotToElicit"], "service");
}

#[tokio::test]
async fn the_missing_slot_fixture_elicits_the_service() {
    let app = spawn_demo().await;
    let (status, r) = app
        .post_json("/lex", &fixture("lex/missing-slot.json"))
        .await;
    assert_eq!(status, 200);
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "ElicitSlot");
    assert_eq!(r["sessionState"]["dialogAction"]["slotToElicit"], "service");
    assert_eq!(r["sessionState"]["intent"]["name"], "DeploymentStatus");
    assert_eq!(r["sessionState"]["intent"]["state"], "InProgress");
    assert_eq!(
        common::assert_valid_ssml(message(&r, 0).1),
        "Which service?"
    );

    // Lex fills the slot and calls again: the answer is about the named service.
    let mut next = fixture("lex/missing-slot.json");
    next["sessionState"]["sessionAttributes"] = r["sessionState"]["sessionAttributes"].clone();
    next["sessionState"]["intent"]["slots"]["service"] = json!({"shape": "Scalar", "value": {"originalValue": "payments API", "interpretedValue": "payments API", "resolvedValues": []}});
    let (_, r) = app.post_json("/lex", &next).await;
    assert_valid_lex_response(&r);
    let spoken = common::assert_valid_ssml(message(&r, 0).1);
    assert!(
        spoken.starts_with("payments API is still deploying"),
        "{spoken}"
    );
}

#[tokio::test]
async fn slack_gets_plain_text_and_a_card_of_follow_ups() {
    let app = spawn_demo().await;
    let (status, r) = app
        .post_json("/lex", &fixture("lex/service-health-slack.json"))
        .await;
    assert_eq!(status, 200);
    assert_valid_lex_response(&r);
    let (kind, content) = message(&r, 0);
    assert_eq!(kind, "PlainText");
    assert!(
        content.starts_with("payments is healthy: all 4 tasks running, no alarms firing."),
        "{content}"
    );
    assert!(
        content.contains(
            "https://console.aws.amazon.com/ecs/v2/clusters/prod/services/payments/health"
        )
    );
    let card = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["contentType"] == "ImageResponseCard")
        .expect("a card");
    let values: Vec<&str> = card["imageResponseCard"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"did payments deploy finish"), "{values:?}");
    assert!(values.contains(&"tell me more"), "{values:?}");
}

#[tokio::test]
async fn near_tied_names_are_asked_back_with_buttons_and_the_choice_is_answered() {
    let app = spawn_demo().await;
    let mut event = fixture("lex/service-health-slack.json");
    event["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"] =
        json!("sender");
    let (_, r) = app.post_json("/lex", &event).await;
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "ElicitSlot");
    assert_eq!(message(&r, 0).1, "Did you mean email-sender or sms-sender?");
    let card = &r["messages"][1]["imageResponseCard"];
    assert_eq!(card["buttons"][0]["value"], "email-sender");
    assert!(
        r["sessionState"]["intent"]["slots"]["service"].is_null(),
        "the unclear value is cleared"
    );

    let mut next = event.clone();
    next["sessionState"]["sessionAttributes"] = r["sessionState"]["sessionAttributes"].clone();
    next["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"] =
        json!("email-sender");
    let (_, r) = app.post_json("/lex", &next).await;
    assert!(
        message(&r, 0).1.starts_with("email-sender is healthy"),
        "{r}"
    );
}

#[tokio::test]
async fn a_likely_name_is_confirmed_before_answering() {
    let app = spawn_demo().await;
    let mut event = fixture("lex/service-health-voice.json");
    event["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"] =
        json!("fraud");
    let (_, r) = app.post_json("/lex", &event).await;
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "ConfirmIntent");
    assert_eq!(
        common::assert_valid_ssml(message(&r, 0).1),
        "Did you mean fraud check?"
    );

    let mut yes = event.clone();
    yes["sessionState"]["sessionAttributes"] = r["sessionState"]["sessionAttributes"].clone();
    yes["sessionState"]["intent"]["confirmationState"] = json!("Confirmed");
    let (_, r) = app.post_json("/lex", &yes).await;
    assert!(
        common::assert_valid_ssml(message(&r, 0).1).starts_with("fraud check is healthy"),
        "{r}"
    );

    let mut no = event.clone();
    let (_, asked) = app.post_json("/lex", &event).await;
    no["sessionState"]["sessionAttributes"] = asked["sessionState"]["sessionAttributes"].clone();
    no["sessionState"]["intent"]["confirmationState"] = json!("Denied");
    let (_, r) = app.post_json("/lex", &no).await;
    assert_eq!(
        r["sessionState"]["dialogAction"]["slotToElicit"], "service",
        "{r}"
    );
}

#[tokio::test]
async fn real_world_event_shapes_are_tolerated() {
    let app = spawn_demo().await;
    let mut event = fixture("lex/service-health-voice.json");
    // Older docs: {score}. New unknown fields, top level and nested. Null optional objects.
    event["interpretations"][0]["nluConfidence"] = json!({"score": 0.9});
    event["someNewField"] = json!({"nested": [1, 2, 3]});
    event["sessionState"]["intent"]["newIntentField"] = json!(true);
    event["sessionState"]["sessionAttributes"] = Value::Null;
    event["requestAttributes"] = Value::Null;
    event["sessionState"]["intent"]["slots"]["service"] = json!({
        "shape": "List",
        "value": {"originalValue": "checkout", "interpretedValue": null, "resolvedValues": []},
        "values": [{"shape": "Scalar", "value": {"originalValue": "checkout", "interpretedValue": "checkout", "resolvedValues": ["checkout"]}}]
    });
    event["sessionState"]["intent"]["slots"]["cluster"] =
        json!({"shape": "Composite", "subSlots": {"region": null}});
    let (status, r) = app.post_json("/lex", &event).await;
    assert_eq!(status, 200, "{r}");
    assert_valid_lex_response(&r);
    assert!(common::assert_valid_ssml(message(&r, 0).1).starts_with("checkout is degraded"));

    // No sessionState.intent: the top interpretation is used.
    let mut event = fixture("lex/service-health-slack.json");
    event["sessionState"]
        .as_object_mut()
        .unwrap()
        .remove("intent");
    event.as_object_mut().unwrap().remove("bot");
    let (status, r) = app.post_json("/lex", &event).await;
    assert_eq!(status, 200, "{r}");
    assert!(message(&r, 0).1.starts_with("payments is healthy"));
}

#[tokio::test]
async fn someone_elses_intent_in_the_dialog_phase_is_delegated() {
    let app = spawn_demo().await;
    let mut event = fixture("lex/missing-slot.json");
    event["sessionState"]["intent"]["name"] = json!("OrderPizza");
    event["sessionState"]["sessionAttributes"] =
        json!({"authorization": "Bearer abc.def.ghi", "team": "x"});
    let (_, r) = app.post_json("/lex", &event).await;
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "Delegate");
    assert_eq!(
        r["sessionState"]["sessionAttributes"]["team"], "x",
        "client attributes are kept"
    );
}

/// Defect: a foreign intent came back rebuilt (a `List` slot as a `Scalar`, `resolvedValues`
/// replaced by the interpreted value), and Lex takes the returned intent as its new state.
#[tokio::test]
async fn a_delegated_foreign_intent_comes_back_exactly_as_received() {
    let app = spawn_demo().await;
    let event = fixture("own/lex/foreign-intent.json");
    let (status, r) = app.post_json("/lex", &event).await;
    assert_eq!(status, 200, "{r}");
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "Delegate");
    assert_eq!(
        r["sessionState"]["intent"], event["sessionState"]["intent"],
        "every field of the intent, slots included, is passed through"
    );
    assert_eq!(
        r["sessionState"]["activeContexts"], event["sessionState"]["activeContexts"],
        "active contexts are kept"
    );
    assert_eq!(r["sessionState"]["sessionAttributes"]["team"], "x");
}

#[tokio::test]
async fn help_repeat_more_and_stop_work_through_lex() {
    let app = spawn_demo().await;
    let (_, first) = app
        .post_json("/lex", &fixture("lex/service-health-voice.json"))
        .await;
    let attrs = first["sessionState"]["sessionAttributes"].clone();
    let turn = |name: &str| {
        let mut e = fixture("lex/follow-up.json");
        e["sessionState"]["intent"] =
            json!({"name": name, "state": "InProgress", "confirmationState": "None", "slots": {}});
        e["invocationSource"] = json!("FulfillmentCodeHook");
        e["sessionState"]["sessionAttributes"] = attrs.clone();
        e
    };
    let (_, r) = app.post_json("/lex", &turn("AMAZON.RepeatIntent")).await;
    assert_valid_lex_response(&r);
    assert_eq!(
        message(&r, 0).1,
        message(&first, 0).1,
        "repeat says the same again"
    );
    let (_, r) = app.post_json("/lex", &turn("MoreIntent")).await;
    let more = common::assert_valid_ssml(message(&r, 0).1);
    assert!(
        more.contains("The alarm is checkout P99 latency high") && more.contains("CPU is at"),
        "{more}"
    );
    let (_, r) = app.post_json("/lex", &turn("HelpIntent")).await;
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "ElicitIntent");
    let (_, r) = app.post_json("/lex", &turn("FallbackIntent")).await;
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "ElicitIntent");
    let (_, r) = app.post_json("/lex", &turn("AMAZON.StopIntent")).await;
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "Close");
}

/// An OpsSource that fails in the ways real dependencies do.
#[derive(Debug)]
struct Broken(&'static str);

#[async_trait]
impl OpsSource for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    async fn catalog(&self) -> Result<Arc<Catalog>, OpsError> {
        Ok(Arc::new(Catalog {
            clusters: vec!["prod".into()],
            services: vec![ServiceRef::new("prod", "checkout")],
        }))
    }
    async fn clusters(&self) -> Result<Arc<Vec<String>>, OpsError> {
        Ok(Arc::new(vec!["prod".into()]))
    }
    async fn services(&self, _: &str) -> Result<Vec<ServiceStatus>, OpsError> {
        self.fail().await
    }
    async fn service(&self, _: &ServiceRef) -> Result<Option<ServiceStatus>, OpsError> {
        self.fail().await
    }
    async fn firing_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        self.fail().await
    }
    async fn all_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        self.fail().await
    }
    async fn alarms_named(&self, _: &str) -> Result<Vec<Alarm>, OpsError> {
        self.fail().await
    }
    async fn alarm(&self, _: &str) -> Result<Option<AlarmDetail>, OpsError> {
        self.fail().await
    }
    async fn metric(
        &self,
        _: &ServiceRef,
        _: MetricKind,
        _: Duration,
    ) -> Result<Option<MetricSeries>, OpsError> {
        self.fail().await
    }
    async fn deployments_since(
        &self,
        _: std::time::SystemTime,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        self.fail().await
    }
    async fn service_deployments(&self, _: &ServiceRef) -> Result<Vec<DeploymentRecord>, OpsError> {
        self.fail().await
    }
    async fn ready(&self) -> Result<(), OpsError> {
        self.fail().await
    }
}

impl Broken {
    async fn fail<T>(&self) -> Result<T, OpsError> {
        match self.0 {
            "panic" => panic!("a bug in a data source"),
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                unreachable!()
            }
            _ => Err(OpsError::Unavailable {
                api: "ecs:DescribeServices",
                source: Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(
                    "connection refused",
                )),
            }),
        }
    }
}

async fn broken_app(mode: &'static str) -> common::TestApp {
    let clock = common::clock();
    let assistant = opsvoice::assistant::Assistant::builder(
        Arc::new(Broken(mode)),
        clock,
        opsvoice::auth::Identity::open(),
    )
    .deadline(Duration::from_millis(200))
    .build()
    .unwrap();
    spawn(assistant).await
}

#[tokio::test]
async fn internal_failures_are_spoken_apologies_in_lex_format_never_5xx() {
    for (mode, expected) in [
        ("panic", "Sorry, something went wrong on my side."),
        ("hang", "That took too long to look up."),
        ("down", "I can't reach ECS right now"),
    ] {
        let app = broken_app(mode).await;
        let (status, r) = app
            .post_json("/lex", &fixture("lex/service-health-voice.json"))
            .await;
        assert_eq!(status, 200, "{mode}: {r}");
        assert_valid_lex_response(&r);
        assert_eq!(r["sessionState"]["dialogAction"]["type"], "Close");
        assert_eq!(r["sessionState"]["intent"]["state"], "Failed", "{mode}");
        let spoken = common::assert_valid_ssml(message(&r, 0).1);
        assert!(spoken.starts_with(expected), "{mode}: {spoken}");
    }
}

#[tokio::test]
async fn bad_bodies_get_a_clear_json_4xx() {
    let app = spawn_demo().await;
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        ("malformed", b"{\"messageVersion\": ".to_vec(), 400, "invalid_json", "EOF while parsing"),
        ("not json", b"hello".to_vec(), 400, "invalid_json", "not valid JSON"),
        ("empty", Vec::new(), 400, "empty_body", "empty"),
        ("whitespace", b"  \n".to_vec(), 400, "empty_body", "empty"),
        (
            "wrong type",
            br#"{"invocationSource": "FulfillmentCodeHook", "sessionState": "yes"}"#.to_vec(),
            422,
            "invalid_request",
            "sessionState",
        ),
        (
            "attribute not a string",
            br#"{"invocationSource": "DialogCodeHook", "sessionState": {"sessionAttributes": {"n": 5}}}"#.to_vec(),
            422,
            "invalid_request",
            "sessionState.sessionAttributes.n",
        ),
        ("missing field", br#"{"sessionState": {}}"#.to_vec(), 422, "invalid_request", "invocationSource"),
        ("array", b"[]".to_vec(), 422, "invalid_request", "expected struct"),
        ("oversized", vec![b' '; 70 * 1024], 413, "body_too_large", "larger than"),
    ];
    for (name, body, status, code, message) in cases {
        let (got, r) = app.post_raw("/lex", body).await;
        assert_eq!(got, status, "{name}: {r}");
        assert_eq!(r["error"]["code"], code, "{name}: {r}");
        let text = r["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{name}: {text}");
    }
}

/// Hardening: AlarmDetail with no slot and a context alarm answered "You don't have
/// access" for a hidden alarm and "I can't find an alarm called …" for a missing one. A
/// context target goes through the grants exactly as a slot does: the same words for both.
#[tokio::test]
async fn a_context_alarm_is_filtered_through_the_grants_like_a_slot() {
    use opsvoice::auth::{Principal, policy::Policy};
    use opsvoice::dialog::context::{MAX_BYTES, SessionContext};

    let policy = Policy::from_toml(
        r#"
[groups.prod-only]
clusters = ["prod"]
services = ["*"]
intents  = ["*"]
"#,
    )
    .unwrap();
    let grants = policy.grants(Some(&Principal {
        sub: "s".into(),
        username: "u".into(),
        groups: vec!["prod-only".into()],
    }));
    let assistant = common::demo(opsvoice::auth::Identity::new(None, policy, Some(grants)))
        .build()
        .unwrap();
    let said = |alarm: &str| {
        let context = SessionContext {
            alarm: Some(alarm.to_owned()),
            ..SessionContext::default()
        };
        let mut event = fixture("lex/service-health-slack.json");
        event["sessionState"]["intent"] =
            json!({"name": "AlarmDetail", "slots": {}, "state": "InProgress"});
        event["sessionState"]["sessionAttributes"] = json!({
            opsvoice::dialog::context::ATTRIBUTE: assistant.sealer().seal(&context, None, MAX_BYTES)
        });
        let assistant = assistant.clone();
        async move {
            let r =
                serde_json::to_value(assistant.lex(&serde_json::from_value(event).unwrap()).await)
                    .unwrap();
            r["messages"][0]["content"].as_str().unwrap().to_owned()
        }
    };
    // Visible: answered.
    assert!(
        said("checkout-p99-latency-high")
            .await
            .contains("checkout-p99-latency-high")
    );
    // Hidden (the data cluster) and missing: the same words.
    let hidden = said("ml-scoring-cpu-high").await;
    let missing = said("no-such-alarm-anywhere").await;
    assert_eq!(hidden, missing);
    assert!(!hidden.contains("ml-scoring"), "{hidden}");
    assert!(!missing.contains("can't find"), "{missing}");
}
