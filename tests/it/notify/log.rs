//! The event log behind "what did I miss?", and the Lambda entry's EventBridge path.

use super::*;

#[tokio::test]
async fn what_happened_answers_from_the_event_log_on_every_channel() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = w.notifier(store.clone());
    // An alarm that fired and resolved within the window: only the log knows it.
    let t0 = w.clock.now();
    accept(
        &notifier,
        &alarm_event("payments-5xx-high", "ALARM", "OK", t0),
    )
    .await;
    w.clock.advance(Duration::from_secs(6 * 60));
    accept(
        &notifier,
        &alarm_event("payments-5xx-high", "OK", "ALARM", w.clock.now()),
    )
    .await;
    let assistant = opsvoice::builder(&Config::default())
        .clock(w.clock.clone())
        .store(store)
        .lex(None)
        .assistant()
        .await
        .unwrap();
    let answer = assistant
        .ask(
            opsvoice::channel::ask::AskRequest {
                text: "what did I miss".to_owned(),
                session_id: None,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(answer.intent, "WhatHappened");
    assert!(
        answer.text.contains("payments-5xx-high fired"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("resolved after 6 minutes"),
        "{}",
        answer.text
    );
    let spoken = common::assert_valid_ssml(&answer.ssml);
    assert!(spoken.split_whitespace().count() <= 40, "{spoken}");

    // Lex and Alexa route WhatHappened to the same answer.
    let mut lex = common::fixture("lex/service-health-voice.json");
    lex["sessionState"]["intent"] = json!({ "name": "WhatHappened", "slots": {}, "state": "InProgress", "confirmationState": "None" });
    lex["interpretations"] = json!([]);
    lex["inputTranscript"] = json!("what did I miss");
    let response = assistant.lex(&serde_json::from_value(lex).unwrap()).await;
    let response = serde_json::to_value(response).unwrap();
    common::assert_valid_lex_response(&response);
    let said = response["messages"].to_string();
    assert!(
        said.contains("5 things happened"),
        "the log's resolved alarm is counted: {said}"
    );
}

#[tokio::test]
async fn what_happened_is_answered_on_alexa_within_the_voice_budget() {
    let w = World::new().await;
    let mut alexa = common::fixture("alexa/service-health.json");
    alexa["request"]["intent"] =
        json!({ "name": "WhatHappened", "confirmationStatus": "NONE", "slots": {} });
    let envelope: opsvoice::channel::alexa::Envelope = serde_json::from_value(alexa).unwrap();
    let response = serde_json::to_value(w.assistant.alexa(&envelope).await).unwrap();
    common::assert_valid_alexa_response(&response);
    let ssml = response["response"]["outputSpeech"]["ssml"]
        .as_str()
        .unwrap();
    let spoken = common::assert_valid_ssml(ssml);
    assert!(spoken.contains("in the last 30 minutes"), "{spoken}");
    assert!(spoken.split_whitespace().count() <= 40, "{spoken}");
}

#[tokio::test]
async fn the_lambda_entry_takes_eventbridge_events_and_the_delivery_schedule() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = Arc::new(w.notifier(file_store(&dir, w.clock.clone())));
    let state = opsvoice::builder(&Config::default())
        .with_assistant(w.assistant.clone())
        .alexa(
            opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, w.clock.clone())
                .unwrap(),
        )
        .events(opsvoice::notify::http::EventsState {
            verifier: None,
            notifier: Some(notifier.clone()),
            sns: None,
        })
        .build()
        .await
        .unwrap();
    let function = opsvoice::lambda::Function::new(state, &Config::default());
    let invoke = |event: Value| {
        let function = function.clone();
        async move {
            function
                .invoke(event, lambda_runtime::Context::default())
                .await
                .unwrap()
        }
    };
    // The documented alarm event, for one of the demo's alarms.
    let answer = invoke(alarm_event(
        "checkout-p99-latency-high",
        "ALARM",
        "OK",
        w.clock.now(),
    ))
    .await;
    assert_eq!(answer["ok"], true, "{answer}");
    // The documented deployment failure, for a demo service.
    let mut failed = fixture("ecs-deployment-state-change-failed.json");
    failed["resources"] = json!(["arn:aws:ecs:us-east-1:123456789012:service/prod/pricing"]);
    assert_eq!(invoke(failed).await["ok"], true);
    // An event of a kind opsvoice does not use: counted and said, not an error.
    let mut other = fixture("ecs-service-action.json");
    other["source"] = json!("aws.ec2");
    other["detail-type"] = json!("EC2 Instance State-change Notification");
    let answer = invoke(other).await;
    assert_eq!(answer["ok"], false);
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("not an event opsvoice uses"),
        "{answer}"
    );
    // The schedule delivers what is due.
    w.clock
        .advance(opsvoice::notify::SETTLE + Duration::from_millis(10));
    let scheduled = json!({
        "version": "0", "id": "sched-1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": iso(w.clock.now()), "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/opsvoice-delivery"], "detail": {}
    });
    assert_eq!(invoke(scheduled).await["ok"], true);
    let tops: Vec<String> = w
        .posts_to(OPS)
        .iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .map(text)
        .collect();
    assert_eq!(tops.len(), 2, "{tops:?}");
    assert!(
        tops.iter()
            .any(|t| t.contains("checkout-p99-latency-high is firing")),
        "{tops:?}"
    );
    assert!(
        tops.iter().any(|t| t.contains("pricing's deployment")),
        "{tops:?}"
    );
    assert_valid(&w.slack);
}

/// The ECS page "Amazon ECS service action events": `SERVICE_TASK_START_IMPAIRED` is a
/// `WARN` service action ("The service is unable to consistently start tasks
/// successfully"); the page's placement-failure example, with that name and type.
#[tokio::test]
async fn what_did_i_miss_includes_ecs_service_actions_at_warn_and_error() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = w.notifier(store.clone());
    let mut impaired = fixture("ecs-service-action.json");
    impaired["resources"] = json!(["arn:aws:ecs:us-west-2:111122223333:service/prod/shipping"]);
    impaired["detail"]["eventType"] = json!("WARN");
    impaired["detail"]["eventName"] = json!("SERVICE_TASK_START_IMPAIRED");
    impaired["detail"]["createdAt"] = json!(iso(w.clock.now()));
    accept(&notifier, &impaired).await;
    let mut placement = fixture("ecs-service-action.json");
    placement["id"] = json!("placement-failure-1");
    placement["resources"] = json!(["arn:aws:ecs:us-west-2:111122223333:service/data/etl"]);
    placement["detail"]["createdAt"] = json!(iso(w.clock.now()));
    accept(&notifier, &placement).await;
    let answer = common::ask_with_log(
        w.clock.clone(),
        store,
        "what did I miss in the last 10 minutes",
    )
    .await;
    assert_eq!(answer.intent, "WhatHappened");
    assert!(
        answer.text.contains("shipping could not start tasks"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("etl could not place tasks"),
        "{}",
        answer.text
    );
}
