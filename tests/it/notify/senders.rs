//! What real senders broke (issue 30): AWS's own sample events, each the way a sender
//! really sends it, through the notifier to the Slack stand-in.

use super::*;

/// The total of `opsvoice_events_skipped_total` for `reason` across its label sets. The
/// recorder is process-wide: the tests that read it run alone.
fn skipped(reason: &str) -> u64 {
    let rendered = opsvoice::telemetry::metrics().render();
    rendered
        .lines()
        .filter(|l| {
            l.starts_with("opsvoice_events_skipped_total{")
                && l.contains(&format!("reason=\"{reason}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn tops(w: &World, channel: &str) -> Vec<String> {
    w.posts_to(channel)
        .iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .map(text)
        .collect()
}

/// The documented single-metric alarm event turned into a metric-math alarm, as the
/// "Metric Math Alarm" example of the CloudWatch page "Alarm events and EventBridge"
/// writes `configuration.metrics`: an expression that returns data over two metrics that
/// do not.
fn metric_math_event(at: SystemTime) -> Value {
    let mut e = alarm_event("checkout-5xx-ratio", "ALARM", "OK", at);
    e["detail"]["configuration"]["metrics"] = json!([
        {
            "id": "m1",
            "metricStat": { "metric": {
                "namespace": "AWS/ApplicationELB", "name": "HTTPCode_Target_5XX_Count",
                "dimensions": { "LoadBalancer": "app/checkout/50dc6c495c0c9188" } },
                "period": 60, "stat": "Sum" },
            "returnData": false
        },
        {
            "id": "m2",
            "metricStat": { "metric": {
                "namespace": "AWS/ApplicationELB", "name": "RequestCount",
                "dimensions": { "LoadBalancer": "app/checkout/50dc6c495c0c9188" } },
                "period": 60, "stat": "Sum" },
            "returnData": false
        },
        { "id": "e1", "expression": "m1/m2*100", "label": "5xx error rate", "returnData": true }
    ]);
    e
}

#[tokio::test]
async fn a_metric_math_alarm_names_the_expression_it_watches() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    // The SNS message of AWS's own sample (aws-lambda-go's
    // `cloudwatch-alarm-sns-payload-multiple-metrics.json`): `Trigger.Metrics`, where
    // `e1` ("Expression1", `m1*1`) returns data and `m1` (NetworkOut) does not.
    let message = fixture("cloudwatch-alarm-sns-message-metric-math.json").to_string();
    let event = opsvoice::notify::event::from_sns_message(&message, "mm-1").unwrap();
    notifier.accept("sns", event).await.unwrap();
    // The EventBridge form, `configuration.metrics` with `returnData`.
    accept(&notifier, &metric_math_event(w.clock.now())).await;
    w.settle(&notifier).await;
    let cards = tops(&w, OPS);
    let sns = cards
        .iter()
        .find(|t| t.contains("EXAMPLE"))
        .expect("the SNS alarm's card");
    assert!(sns.contains("Expression1"), "{sns}");
    assert!(!sns.contains("NetworkOut"), "{sns}");
    assert!(sns.contains("over 0"), "the threshold against it: {sns}");
    let eb = cards
        .iter()
        .find(|t| t.contains("checkout-5xx-ratio"))
        .expect("the EventBridge alarm's card");
    assert!(eb.contains("5xx error rate"), "{eb}");
    assert!(!eb.contains("5xx errors is"), "not the first metric: {eb}");
    assert!(eb.contains("over "), "the threshold against it: {eb}");
    assert_valid(&w.slack);
}

/// The ECS page "Amazon ECS service deployment state change events": a rollback is a
/// `SERVICE_DEPLOYMENT_IN_PROGRESS` whose `reason` is "ECS deployment circuit breaker:
/// rolling back to deploymentId …" (the page's second in-progress example), and it ends
/// with that deployment's `SERVICE_DEPLOYMENT_COMPLETED`.
#[tokio::test]
async fn an_ecs_rollback_is_posted_when_it_starts_and_when_it_is_done() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    let pricing = json!(["arn:aws:ecs:us-west-2:111122223333:service/prod/pricing"]);
    // The failed deployment: the documented example, "task failed to start".
    let mut failed = fixture("ecs-deployment-state-change-failed.json");
    failed["resources"] = pricing.clone();
    accept(&notifier, &failed).await;
    // The rollback starts: the page's rollback example.
    let mut rolling = fixture("ecs-deployment-state-change-in-progress.json");
    rolling["id"] = json!("rollback-started-1");
    rolling["resources"] = pricing.clone();
    rolling["detail"]["deploymentId"] = json!("ecs-svc/456");
    rolling["detail"]["reason"] =
        json!("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123.");
    accept(&notifier, &rolling).await;
    // And completes.
    let mut done = rolling.clone();
    done["id"] = json!("rollback-completed-1");
    done["detail"]["eventName"] = json!("SERVICE_DEPLOYMENT_COMPLETED");
    done["detail"]["reason"] = json!("ECS deployment ecs-svc/456 completed.");
    accept(&notifier, &done).await;
    // An ordinary deployment in progress, and one completing, say nothing.
    let mut plain = fixture("ecs-deployment-state-change-in-progress.json");
    plain["resources"] = pricing.clone();
    accept(&notifier, &plain).await;
    w.settle(&notifier).await;
    let cards = tops(&w, OPS);
    assert_eq!(cards.len(), 3, "{cards:#?}");
    assert!(
        cards
            .iter()
            .any(|t| t.contains("pricing's deployment failed")),
        "{cards:#?}"
    );
    assert!(
        cards
            .iter()
            .any(|t| t.contains("pricing is rolling back") && t.contains("ecs-svc/123")),
        "{cards:#?}"
    );
    // Rolled back, saying where to: the revision a lookup of the service gives, or (as
    // here: the demo fleet keeps no deployment history for pricing) the deployment the
    // rollback's start named.
    assert!(
        cards.iter().any(|t| t.contains("pricing rolled back")
            && (t.contains("Now serving") || t.contains("Back to deployment ecs-svc/123"))),
        "{cards:#?}"
    );
    // A failed reason that merely contains "roll" is a failure, not a rollback.
    let mut odd = fixture("ecs-deployment-state-change-failed.json");
    odd["id"] = json!("failed-2");
    odd["resources"] = json!(["arn:aws:ecs:us-west-2:111122223333:service/prod/checkout"]);
    odd["detail"]["deploymentId"] = json!("ecs-svc/789");
    odd["detail"]["reason"] = json!("ECS deployment circuit breaker: enrollment task failed.");
    accept(&notifier, &odd).await;
    w.settle(&notifier).await;
    let cards = tops(&w, OPS);
    assert!(
        cards
            .iter()
            .any(|t| t.contains("checkout's deployment failed")),
        "{cards:#?}"
    );
    assert_valid(&w.slack);
}

#[tokio::test]
#[ignore = "counts process-wide metrics: run alone by `counters_are_checked_in_processes_of_their_own`"]
async fn every_event_that_makes_no_card_is_counted_by_reason() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let narrow = r#"
[[route]]
channel = "C0DATA0001"
group = "data-team"
clusters = ["data"]
deployments = true

[[route]]
channel = "C0DATA0002"
group = "data-team"
alarms = ["unplaced-*"]
"#;
    let notifier = w.notifier_with(file_store(&dir, w.clock.clone()), narrow);
    let (state, route, policy) = (skipped("state"), skipped("no_route"), skipped("policy"));
    // INSUFFICIENT_DATA: a state we skip.
    accept(
        &notifier,
        &alarm_event(
            "ml-scoring-cpu-high",
            "INSUFFICIENT_DATA",
            "OK",
            w.clock.now(),
        ),
    )
    .await;
    // A prod alarm: the only route is for `data`.
    accept(
        &notifier,
        &alarm_event("checkout-p99-latency-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    // An alarm tied to no service: the second route wants it, but the data team's policy
    // may not see what is tied to no service.
    accept(
        &notifier,
        &alarm_event("unplaced-nowhere", "ALARM", "OK", w.clock.now()),
    )
    .await;
    // (A kind we do not use is counted where it arrives: the Lambda entry's and `/events`'
    // tests count `unsupported`.)
    w.settle(&notifier).await;
    assert!(w.slack.posts().is_empty(), "{:?}", w.slack.posts());
    // Run alone (see `counters_are_checked_in_processes_of_their_own`): exactly these.
    assert_eq!(skipped("state"), state + 1, "state");
    assert_eq!(skipped("no_route"), route + 1, "no_route");
    assert_eq!(skipped("policy"), policy + 1, "policy");
}

/// The CloudWatch page "Alarm events and EventBridge", composite alarm with a suppressor
/// alarm (the fixture): `actionsSuppressedBy` is `WaitPeriod`, the suppressor
/// `ServiceMaintenanceAlarm`.
#[tokio::test]
#[ignore = "counts process-wide metrics: run alone by `counters_are_checked_in_processes_of_their_own`"]
async fn a_suppressed_composite_alarm_says_so_or_stays_quiet_as_its_actions_would() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    let mut waiting = fixture("cloudwatch-composite-alarm-state-change.json");
    waiting["detail"]["state"]["timestamp"] = json!(iso(w.clock.now()));
    accept(&notifier, &waiting).await;
    w.settle(&notifier).await;
    let cards = tops(&w, OPS);
    assert_eq!(cards.len(), 1, "{cards:#?}");
    assert!(
        cards[0].contains("suppressed by ServiceMaintenanceAlarm"),
        "{cards:#?}"
    );
    // While the suppressor is in ALARM (a maintenance window), its actions are off: so is
    // the card.
    let before = skipped("suppressed");
    let mut maintenance = waiting.clone();
    maintenance["id"] = json!("suppressed-by-alarm");
    maintenance["detail"]["alarmName"] = json!("ServiceAggregatedAlarm2");
    maintenance["detail"]["state"]["actionsSuppressedBy"] = json!("Alarm");
    maintenance["detail"]["state"]["actionsSuppressedReason"] =
        json!("Actions suppressed by ServiceMaintenanceAlarm");
    accept(&notifier, &maintenance).await;
    w.settle(&notifier).await;
    assert_eq!(tops(&w, OPS).len(), 1, "{:#?}", tops(&w, OPS));
    assert_eq!(skipped("suppressed"), before + 1);
    // In the extension period (the suppressor just went back to OK), as in the wait
    // period: the actions are suppressed, and the card says by what.
    let mut extension = waiting.clone();
    extension["id"] = json!("suppressed-extension");
    extension["detail"]["alarmName"] = json!("ServiceAggregatedAlarm3");
    extension["detail"]["state"]["actionsSuppressedBy"] = json!("ExtensionPeriod");
    accept(&notifier, &extension).await;
    w.settle(&notifier).await;
    let cards = tops(&w, OPS);
    assert_eq!(cards.len(), 2, "{cards:#?}");
    assert!(
        cards.iter().any(|t| t.contains("ServiceAggregatedAlarm3")
            && t.contains("suppressed by ServiceMaintenanceAlarm")),
        "{cards:#?}"
    );
    assert_valid(&w.slack);
}

/// An alarm on an ECS service's own metric: `ClusterName` and `ServiceName` dimensions
/// (as `AWS/ECS` `CPUUtilization` has them), for an alarm CloudWatch cannot describe (in
/// another account, or deleted since).
fn placed_alarm(alarm: &str, at: SystemTime) -> Value {
    let mut e = alarm_event(alarm, "ALARM", "OK", at);
    e["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"] = json!({
        "namespace": "AWS/ECS", "name": "CPUUtilization",
        "dimensions": { "ClusterName": "data", "ServiceName": "ml-scoring" }
    });
    e
}

#[tokio::test]
async fn alarms_the_lookup_cannot_find_are_placed_by_their_dimensions() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = Arc::new(w.notifier(file_store(&dir, w.clock.clone())));
    // A burst of 20, as in the episode tests.
    for i in 0..20 {
        accept(
            &notifier,
            &placed_alarm(&format!("elsewhere-{i:02}"), w.clock.now()),
        )
        .await;
        w.clock.advance(Duration::from_millis(500));
    }
    w.settle(&notifier).await;
    w.settle(&notifier).await;
    let data: String = w
        .posts_to(DATA_ONLY)
        .iter()
        .map(text)
        .collect::<Vec<_>>()
        .join("\n");
    for i in 0..20 {
        assert!(
            data.contains(&format!("elsewhere-{i:02}")),
            "the data team's channel: {data}"
        );
    }
    // One through the Lambda entry.
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
    w.clock.advance(Duration::from_secs(600));
    let answer = function
        .invoke(
            placed_alarm("elsewhere-lambda", w.clock.now()),
            lambda_runtime::Context::default(),
        )
        .await
        .unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    w.settle(&notifier).await;
    assert!(
        w.posts_to(DATA_ONLY)
            .iter()
            .any(|p| text(p).contains("elsewhere-lambda")),
        "{:#?}",
        w.posts_to(DATA_ONLY)
    );
    assert_valid(&w.slack);
}

/// The tests that count `opsvoice_events_skipped_total`, each alone in a process, so that
/// no other suite's events move the counters they compare.
#[test]
fn counters_are_checked_in_processes_of_their_own() {
    common::alone(&[
        "notify::senders::every_event_that_makes_no_card_is_counted_by_reason",
        "notify::senders::a_suppressed_composite_alarm_says_so_or_stays_quiet_as_its_actions_would",
        "lambda::an_eventbridge_event_of_an_unknown_shape_is_acknowledged_not_retried",
    ]);
}
