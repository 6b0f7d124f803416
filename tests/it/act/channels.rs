//! Acting on each channel's wire, on the demo fleet (its effects simulated): the read-back
//! asks "Shall I?" the channel's way (Lex `ConfirmIntent`, `/v1/ask` `end_session: false`),
//! only the requester's own yes in the same session goes on, and a yes with no read-back
//! of its own does nothing.

use serde_json::{Value, json};

use crate::common::{self, assert_valid_lex_response, spawn_demo};

fn lex_event(intent: &str, slots: Value, confirmation: &str, session: &str) -> Value {
    let mut event = common::fixture("lex/service-health-voice.json");
    event["inputMode"] = json!("Text");
    event["sessionId"] = json!(session);
    event["inputTranscript"] = json!("restart checkout");
    event["interpretations"] = json!([]);
    event["sessionState"]["intent"] = json!({
        "name": intent,
        "state": "ReadyForFulfillment",
        "confirmationState": confirmation,
        "slots": slots,
    });
    event
}

fn slot(value: &str) -> Value {
    json!({"shape": "Scalar", "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]}})
}

fn said(r: &Value) -> String {
    r["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn lex_reads_back_with_confirm_intent_and_acts_on_its_own_confirmation_only() {
    let app = spawn_demo().await;
    let slots = json!({"service": slot("checkout"), "cluster": null});
    let (status, first) = app
        .post_json(
            "/lex",
            &lex_event("RestartService", slots.clone(), "None", "s-1"),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_valid_lex_response(&first);
    assert_eq!(
        first["sessionState"]["dialogAction"]["type"], "ConfirmIntent",
        "{first}"
    );
    let readback = said(&first);
    assert!(readback.contains("Restart checkout in prod?"), "{readback}");
    assert!(readback.contains("Shall I?"), "{readback}");

    // A crafted confirmation with no read-back of ours: nothing happens.
    let (_, crafted) = app
        .post_json(
            "/lex",
            &lex_event("RestartService", slots.clone(), "Confirmed", "s-1"),
        )
        .await;
    assert_eq!(crafted["sessionState"]["dialogAction"]["type"], "Close");
    assert!(said(&crafted).contains("nothing waiting"), "{crafted}");

    // The same attributes in another Lex session: not this session's read-back.
    let mut elsewhere = lex_event("RestartService", slots.clone(), "Confirmed", "s-2");
    elsewhere["sessionState"]["sessionAttributes"] =
        first["sessionState"]["sessionAttributes"].clone();
    let (_, other) = app.post_json("/lex", &elsewhere).await;
    assert!(said(&other).contains("nothing waiting"), "{other}");

    // The real yes, in the session of the read-back.
    let mut yes = lex_event("RestartService", slots.clone(), "Confirmed", "s-1");
    yes["sessionState"]["sessionAttributes"] = first["sessionState"]["sessionAttributes"].clone();
    let (_, done) = app.post_json("/lex", &yes).await;
    assert_valid_lex_response(&done);
    assert_eq!(done["sessionState"]["dialogAction"]["type"], "Close");
    assert!(said(&done).contains("Restarting checkout"), "{done}");
    // Lex re-delivers it: done once.
    let (_, again) = app.post_json("/lex", &yes).await;
    assert!(said(&again).contains("nothing waiting"), "{again}");
}

#[tokio::test]
async fn lex_denied_cancels_and_changes_nothing() {
    let app = spawn_demo().await;
    let slots = json!({"service": slot("checkout"), "cluster": null, "count": slot("5")});
    let (_, first) = app
        .post_json(
            "/lex",
            &lex_event("ScaleService", slots.clone(), "None", "s-9"),
        )
        .await;
    assert_eq!(
        first["sessionState"]["dialogAction"]["type"], "ConfirmIntent",
        "{first}"
    );
    assert!(said(&first).contains("from 3 to 5"), "{first}");
    let mut no = lex_event("ScaleService", slots, "Denied", "s-9");
    no["sessionState"]["sessionAttributes"] = first["sessionState"]["sessionAttributes"].clone();
    let (_, r) = app.post_json("/lex", &no).await;
    assert!(said(&r).contains("I won't scale checkout"), "{r}");
}

async fn ask(app: &common::TestApp, text: &str, session: &str) -> Value {
    let (status, r) = app
        .post_json("/v1/ask", &json!({"text": text, "session_id": session}))
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

#[tokio::test]
async fn ask_says_shall_i_and_the_next_yes_in_the_session_decides() {
    let app = spawn_demo().await;
    let r = ask(&app, "roll back checkout", "a-1").await;
    let text = r["text"].as_str().unwrap();
    assert!(text.contains("from checkout:42 to checkout:41"), "{text}");
    assert!(text.contains("Shall I?"), "{text}");
    assert_eq!(r["end_session"], false);
    // Another session's yes: nothing to confirm.
    let other = ask(&app, "yes", "a-2").await;
    assert!(
        !other["text"].as_str().unwrap().contains("Rolling"),
        "{other}"
    );
    let yes = ask(&app, "yes", "a-1").await;
    let text = yes["text"].as_str().unwrap();
    assert!(
        text.contains("Rolling checkout back to checkout:41"),
        "{text}"
    );
    let status = ask(&app, "how is the checkout deploy going", "a-1").await;
    assert!(status["text"].as_str().unwrap().contains("41"), "{status}");
}

#[tokio::test]
async fn anything_but_yes_is_a_no() {
    let app = spawn_demo().await;
    let r = ask(&app, "restart payments", "b-1").await;
    assert!(r["text"].as_str().unwrap().contains("Shall I?"), "{r}");
    // Another question instead of an answer: the read-back is dropped.
    ask(&app, "any alarms firing?", "b-1").await;
    let late = ask(&app, "yes", "b-1").await;
    assert!(
        !late["text"].as_str().unwrap().contains("Restarting"),
        "{late}"
    );
    // Asked again, it is read back afresh: the dropped one was cancelled, not kept.
    let again = ask(&app, "restart payments", "b-1").await;
    assert!(
        again["text"].as_str().unwrap().contains("Shall I?"),
        "{again}"
    );
    let yes = ask(&app, "yes", "b-1").await;
    assert!(
        yes["text"]
            .as_str()
            .unwrap()
            .contains("Restarting payments"),
        "{yes}"
    );
}

#[tokio::test]
async fn refusals_on_the_demo_say_why() {
    let app = spawn_demo().await;
    let r = ask(&app, "roll back shipping", "c-1").await;
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("can't tell which version"),
        "{r}"
    );
    let r = ask(&app, "restart gateway", "c-1").await;
    assert!(r["text"].as_str().unwrap().contains("CodeDeploy"), "{r}");
    let r = ask(&app, "silence ml-scoring-cpu-high for an hour", "c-1").await;
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("does more than notify"),
        "{r}"
    );
    let r = ask(&app, "scale checkout to 500", "c-1").await;
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("outside what this deployment allows"),
        "{r}"
    );
}

#[tokio::test]
async fn questions_about_actions_are_never_read_back() {
    let app = spawn_demo().await;
    for q in [
        "did the restart of checkout finish?",
        "how is the rollback of pricing going",
        "who restarted checkout",
        "what's checkout's desired count",
    ] {
        let r = ask(&app, q, "q-1").await;
        let text = r["text"].as_str().unwrap();
        assert!(!text.contains("Shall I?"), "{q}: {text}");
    }
}

#[tokio::test]
async fn a_silence_may_end_at_a_time_of_day_and_the_read_back_says_it_in_utc() {
    let app = spawn_demo().await;
    // Two hours from the fixtures' now, as a time of day (UTC), said as a person would.
    let at = (common::NOW + 2 * 3600) % 86_400;
    let end = format!("{:02}:{:02}", at / 3600, at % 3600 / 60);
    let r = ask(&app, &format!("mute kafka lag until {end}"), "t-1").await;
    let text = r["text"].as_str().unwrap();
    assert!(text.contains("kafka-connect-consumer-lag"), "{text}");
    assert!(text.contains(&format!("until {end} UTC")), "{text}");
    assert!(text.contains("Shall I?"), "{text}");
    let yes = ask(&app, "yes", "t-1").await;
    let text = yes["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("silenced until {end} UTC")),
        "{text}"
    );
    // An end past the policy's longest silence (4 hours) is refused, and says why.
    let late = (common::NOW + 6 * 3600) % 86_400;
    let late = format!("{:02}:{:02}", late / 3600, late % 3600 / 60);
    let r = ask(&app, &format!("mute kafka lag until {late}"), "t-2").await;
    let text = r["text"].as_str().unwrap();
    assert!(
        text.contains("outside what this deployment allows"),
        "{text}"
    );
}
