//! The episode rules and the queue: one card per alarm that OK edits, flapping in its
//! thread, bursts as one summary, mutes, Slack outages across a restart, two workers.

use super::*;

#[test]
fn the_documented_samples_are_read() {
    use opsvoice::notify::event::{
        DeploymentOutcome, Event, State, from_eventbridge, from_sns_message,
    };
    let Event::Alarm(a) = from_eventbridge(&fixture("cloudwatch-alarm-state-change.json")).unwrap()
    else {
        panic!("not an alarm")
    };
    assert_eq!(a.alarm, "ServerCpuTooHigh");
    assert_eq!(a.metric.as_deref(), Some("AWS/EC2/CPUUtilization"));
    assert!(matches!(a.state, State::Alarm | State::Ok));
    assert!(matches!(
        from_eventbridge(&fixture("cloudwatch-composite-alarm-state-change.json")).unwrap(),
        Event::Alarm(_)
    ));
    let Event::Deployment(d) =
        from_eventbridge(&fixture("ecs-deployment-state-change-failed.json")).unwrap()
    else {
        panic!("not a deployment")
    };
    assert_eq!(
        (d.cluster.as_str(), d.service.as_str()),
        ("default", "servicetest")
    );
    assert!(matches!(
        d.outcome,
        DeploymentOutcome::Failed | DeploymentOutcome::RolledBack
    ));
    let Event::Deployment(d) =
        from_eventbridge(&fixture("ecs-deployment-state-change-in-progress.json")).unwrap()
    else {
        panic!("not a deployment")
    };
    assert_eq!(d.outcome, DeploymentOutcome::InProgress);
    assert!(matches!(
        from_eventbridge(&fixture("ecs-service-action.json")).unwrap(),
        Event::ServiceAction(_)
    ));
    let message = fixture("cloudwatch-alarm-sns-message.json").to_string();
    let Event::Alarm(a) = from_sns_message(&message, "m-1").unwrap() else {
        panic!("not an alarm")
    };
    assert!(!a.alarm.is_empty());
    // An event we cannot use says why.
    let mut other = fixture("ecs-service-action.json");
    other["detail-type"] = json!("EC2 Instance State-change Notification");
    other["source"] = json!("aws.ec2");
    let err = from_eventbridge(&other).unwrap_err();
    assert!(err.why.contains("not an event opsvoice uses"), "{err}");
}

#[tokio::test]
async fn an_alarm_gets_one_card_that_ok_edits_and_flapping_folds_into_its_thread() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    let t0 = w.clock.now();
    let fire = alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0);
    accept(&notifier, &fire).await;
    // The same event delivered again changes nothing.
    accept(&notifier, &fire).await;
    notifier.deliver_due().await;
    assert!(
        w.slack.posts().is_empty(),
        "the card waits for a burst to settle"
    );
    w.settle(&notifier).await;
    let ops = w.posts_to(OPS);
    assert_eq!(ops.len(), 1, "{ops:?}");
    let card = &ops[0];
    assert_eq!(card.method, "chat.postMessage");
    let t = text(card);
    assert!(t.contains("checkout-p99-latency-high is firing"), "{t}");
    assert!(
        t.contains("checkout is degraded") || t.contains("checkout"),
        "the health line: {t}"
    );
    let blocks = card.body["blocks"].to_string();
    for button in [
        "Why is it firing?",
        "What changed?",
        "CPU and memory",
        "Mute for 1 hour",
    ] {
        assert!(blocks.contains(button), "{button}: {blocks}");
    }
    // The data team's channel may not see prod.
    assert!(w.posts_to(DATA_ONLY).is_empty());

    // Resolved 14 minutes later: the card is edited and the thread says so.
    w.clock.advance(Duration::from_secs(14 * 60));
    let ok = alarm_event(
        "checkout-p99-latency-high",
        "OK",
        "ALARM",
        t0 + Duration::from_secs(14 * 60),
    );
    accept(&notifier, &ok).await;
    w.settle(&notifier).await;
    let posts = w.slack.posts();
    let update = posts
        .iter()
        .find(|p| p.method == "chat.update")
        .expect("the card is edited");
    assert!(
        text(update).contains("resolved after 14 minutes"),
        "{}",
        text(update)
    );
    let reply = posts
        .iter()
        .find(|p| p.body["thread_ts"].is_string())
        .expect("a thread reply");
    assert_eq!(reply.body["thread_ts"], card_ts(&w, card));
    assert!(
        text(reply).contains("Resolved after 14 minutes"),
        "{}",
        text(reply)
    );

    // Flapping: it fires again 2 minutes later; no new card, a reply in the thread.
    w.clock.advance(Duration::from_secs(120));
    accept(
        &notifier,
        &alarm_event("checkout-p99-latency-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    w.settle(&notifier).await;
    let cards: Vec<Post> = w
        .posts_to(OPS)
        .into_iter()
        .filter(|p| p.method == "chat.postMessage" && p.body["thread_ts"].is_null())
        .collect();
    assert_eq!(cards.len(), 1, "one card per episode: {cards:?}");
    assert!(
        w.slack
            .posts()
            .iter()
            .any(|p| text(p).contains("Firing again")),
        "{:?}",
        w.slack.posts()
    );
    assert_valid(&w.slack);
}

/// The `ts` the stand-in gave `card` (the first post gets `…000001`, and so on).
fn card_ts(w: &World, card: &Post) -> String {
    let index = w
        .slack
        .posts()
        .iter()
        .position(|p| p.body == card.body)
        .unwrap();
    format!("1700000000.{:06}", index + 1)
}

#[tokio::test]
async fn twenty_alarms_in_ten_seconds_make_one_summary_and_a_mute_holds() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    // 20 alarms over 10 seconds, the worker running every second as in `serve`.
    for i in 0..20 {
        let at = w.clock.now();
        accept(
            &notifier,
            &alarm_event(&format!("storm-{i:02}"), "ALARM", "OK", at),
        )
        .await;
        w.clock.advance(Duration::from_millis(500));
        if i % 2 == 1 {
            notifier.deliver_due().await;
        }
    }
    w.settle(&notifier).await;
    w.settle(&notifier).await;
    let tops: Vec<Post> = w
        .posts_to(OPS)
        .into_iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .collect();
    assert_eq!(
        tops.len(),
        1,
        "one summary, not 20 posts: {:#?}",
        tops.iter().map(text).collect::<Vec<_>>()
    );
    assert!(
        text(&tops[0]).contains("alarms fired within a minute"),
        "{}",
        text(&tops[0])
    );
    // The rest joined its thread: every one of the 20 is on the card or in the thread.
    let all: String = w
        .posts_to(OPS)
        .iter()
        .map(text)
        .collect::<Vec<_>>()
        .join("\n");
    for i in 0..20 {
        assert!(
            all.contains(&format!("storm-{i:02}")),
            "storm-{i:02} is missing: {all}"
        );
    }
    // Unplaced alarms are for routes over everything only.
    assert!(w.posts_to(DATA_ONLY).is_empty());
    // One more within the minute joins the summary's thread.
    accept(
        &notifier,
        &alarm_event("storm-20", "ALARM", "OK", w.clock.now()),
    )
    .await;
    w.settle(&notifier).await;
    let joined = w.posts_to(OPS);
    assert_eq!(
        joined
            .iter()
            .filter(|p| p.body["thread_ts"].is_null())
            .count(),
        1
    );
    assert!(
        joined
            .iter()
            .any(|p| text(p).contains("Also firing: storm-20")),
        "{joined:?}"
    );

    // A muted service posts nothing.
    let store = file_store(&dir, w.clock.clone());
    store
        .put(
            &opsvoice::store::Key::mute(OPS, "prod/checkout"),
            "U1",
            w.clock.now() + Duration::from_secs(3600),
        )
        .await
        .unwrap();
    let before = w.slack.posts().len();
    w.clock.advance(Duration::from_secs(120));
    accept(
        &notifier,
        &alarm_event("checkout-p99-latency-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    w.settle(&notifier).await;
    assert_eq!(
        w.slack.posts().len(),
        before,
        "muted: {:?}",
        &w.slack.posts()[before..]
    );
    assert_valid(&w.slack);
}

#[tokio::test]
async fn slack_down_delays_posts_but_loses_none_across_a_restart_and_a_denied_cluster_stays_dark() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    // ml-scoring is in `data`: both channels may see it.
    accept(
        &notifier,
        &alarm_event("ml-scoring-cpu-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    // A 429, then 500s for over two minutes of retries (each call tries three times).
    w.slack.fail_next(Failure::RateLimited { retry_after: 2 });
    for _ in 0..12 {
        w.slack.fail_next(Failure::ServerError);
    }
    w.settle(&notifier).await;
    assert!(w.slack.posts().is_empty(), "Slack is down");
    // A restart: the queue is in the store, not in the process.
    drop(notifier);
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    for _ in 0..6 {
        w.clock.advance(Duration::from_secs(60));
        notifier.deliver_due().await;
    }
    assert_eq!(w.posts_to(OPS).len(), 1, "{:?}", w.slack.posts());
    assert_eq!(w.posts_to(DATA_ONLY).len(), 1, "{:?}", w.slack.posts());
    let late = text(&w.posts_to(OPS)[0]);
    assert!(late.contains("ml-scoring-cpu-high"), "{late}");
    for post in w.slack.posts() {
        assert!(
            post.body["blocks"].to_string().contains("late"),
            "it says it is late: {:#}",
            post.body
        );
    }

    // A prod alarm never reaches the data team's channel.
    accept(
        &notifier,
        &alarm_event(
            "recommendations-5xx-rate-high",
            "ALARM",
            "OK",
            w.clock.now(),
        ),
    )
    .await;
    w.settle(&notifier).await;
    assert_eq!(w.posts_to(DATA_ONLY).len(), 1);
    assert_eq!(w.posts_to(OPS).len(), 2);

    // A failed deployment gets its own card, in the channels that may see it.
    let mut failed = fixture("ecs-deployment-state-change-failed.json");
    failed["resources"] = json!(["arn:aws:ecs:us-east-1:123456789012:service/data/ml-scoring"]);
    accept(&notifier, &failed).await;
    w.settle(&notifier).await;
    assert!(
        w.posts_to(DATA_ONLY)
            .iter()
            .any(|p| text(p).contains("ml-scoring's deployment")),
        "{:?}",
        w.posts_to(DATA_ONLY)
    );
    assert_valid(&w.slack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_store_make_one_summary_of_a_burst() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let a = w.notifier(file_store(&dir, w.clock.clone()));
    let b = w.notifier(file_store(&dir, w.clock.clone()));
    for i in 0..5 {
        accept(
            &a,
            &alarm_event(&format!("burst-{i}"), "ALARM", "OK", w.clock.now()),
        )
        .await;
    }
    w.clock
        .advance(opsvoice::notify::SETTLE + Duration::from_millis(10));
    for _ in 0..6 {
        tokio::join!(a.deliver_due(), b.deliver_due());
        w.clock.advance(Duration::from_secs(2));
    }
    let tops: Vec<String> = w
        .posts_to(OPS)
        .iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .map(text)
        .collect();
    assert_eq!(tops.len(), 1, "{tops:?}");
    assert!(tops[0].contains("alarms fired within a minute"), "{tops:?}");
    // Whichever worker held one when the summary went out adds it to the thread.
    let all: String = w
        .posts_to(OPS)
        .iter()
        .map(text)
        .collect::<Vec<_>>()
        .join("\n");
    for i in 0..5 {
        assert!(all.contains(&format!("burst-{i}")), "burst-{i}: {all}");
    }
    assert_valid(&w.slack);
}

/// A card the release before typed records queued, and its alarm episode, as that release
/// stored them (`tests/fixtures/store/records-v0.json`: no version field), are still read
/// and delivered after the upgrade.
#[tokio::test]
async fn a_card_an_earlier_release_queued_is_still_delivered() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let now = w
        .clock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    let fixture = common::fixture("store/records-v0.json");
    for record in fixture["records"].as_array().unwrap() {
        let key: opsvoice::store::Key = serde_json::from_value(record["key"].clone()).unwrap();
        let mut value: Value = serde_json::from_str(record["value"].as_str().unwrap()).unwrap();
        // Only the times move to now (a job over an hour old is dropped as undeliverable);
        // every field and its shape is as stored.
        if key.as_str().starts_with("job#") {
            value["created"] = json!(now.as_millis() as i64);
            value["due"] = json!(now.as_millis() as i64);
        } else if key.as_str().starts_with("episode#") {
            value["opened_at"] = json!(now.as_secs() as i64);
        } else {
            continue;
        }
        store
            .put(
                &key,
                &value.to_string(),
                w.clock.now() + Duration::from_secs(3600),
            )
            .await
            .unwrap();
    }
    let notifier = w.notifier(store);
    w.settle(&notifier).await;
    let posts = w.posts_to("C0FIXTURE");
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert!(text(&posts[0]).contains("checkout-cpu-high"), "{posts:#?}");
}
