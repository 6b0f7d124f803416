//! UnsupportedAction end to end: asked for an action it cannot take, opsvoice says so, names
//! what was asked and what it can tell instead, and never answers as another intent. An
//! action it takes on one service or alarm is another intent ("restart checkout").
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use common::{assert_valid_lex_response, fixture, spawn_demo};
use serde_json::json;

#[tokio::test]
async fn requests_to_act_are_answered_as_such_on_v1_ask() {
    let app = spawn_demo().await;
    for (question, starts) in [
        (
            "restart everything in prod",
            "I can't restart more than one service at once.",
        ),
        (
            "please roll back all the services in data",
            "I can't roll back more than one service at once.",
        ),
        (
            "scale up the prod cluster",
            "I can't scale more than one service at once.",
        ),
        ("page the on call", "I can't page anyone."),
        (
            "silence the alarms",
            "I can't silence more than one alarm at once.",
        ),
        ("acknowledge the alarm", "I can't acknowledge alarms."),
    ] {
        let (status, r) = app.post_json("/v1/ask", &json!({"text": question})).await;
        assert_eq!(status, 200, "{question}: {r}");
        assert_eq!(r["intent"], "UnsupportedAction", "{question}: {r}");
        let text = r["text"].as_str().unwrap();
        assert!(text.starts_with(starts), "{question}: {text}");
        // Not another intent's answer: no health verdict, no alarm list.
        for other in [
            "degraded",
            "is healthy",
            "firing for",
            "tasks running",
            "rolled out",
        ] {
            assert!(!text.contains(other), "{question}: {text}");
        }
        common::assert_valid_ssml(r["ssml"].as_str().unwrap());
    }
    let (_, r) = app
        .post_json(
            "/v1/ask",
            &json!({"text": "deploy the new build of checkout"}),
        )
        .await;
    assert_eq!(r["intent"], "UnsupportedAction", "{r}");
    assert_eq!(r["slots"]["service"], "checkout");
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("how checkout is doing")
    );
}

#[tokio::test]
async fn lex_closes_an_unsupported_action_with_one_short_spoken_sentence() {
    let app = spawn_demo().await;
    let mut event = fixture("lex/service-health-voice.json");
    event["sessionState"]["intent"]["name"] = json!("UnsupportedAction");
    event["inputTranscript"] = json!("roll back everything in prod");
    let (status, r) = app.post_json("/lex", &event).await;
    assert_eq!(status, 200, "{r}");
    assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["dialogAction"]["type"], "Close");
    assert_eq!(r["sessionState"]["intent"]["name"], "UnsupportedAction");
    let spoken = common::assert_valid_ssml(r["messages"][0]["content"].as_str().unwrap());
    assert!(
        spoken.starts_with("I can't roll back more than one service at once."),
        "{spoken}"
    );
    assert!(spoken.split_whitespace().count() <= 35, "{spoken}");
}

#[test]
fn the_generated_models_carry_it() {
    let model = opsvoice::nlu::embedded_model().unwrap();
    let def = model
        .iter()
        .find(|d| d.name == "UnsupportedAction")
        .unwrap();
    assert!(def.samples.len() >= opsvoice::nlu::MIN_SAMPLES);
    assert_eq!(
        opsvoice::dialog::Intent::parse("UnsupportedAction").map(|i| i.name()),
        Some("UnsupportedAction")
    );
    assert!(
        opsvoice::dialog::Intent::QUESTIONS
            .contains(&opsvoice::dialog::Intent::parse("UnsupportedAction").unwrap())
    );
}
