//! `/slack/events`: only Slack's signed requests are answered, each event once (across
//! retries, instances and a process that died mid-answer), and Slack's own `message.im`
//! example is answered while our own posts never are.
#![allow(clippy::unwrap_used)]

use super::*;
use common::slack_stub::Failure;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_are_not_slacks_are_refused_and_never_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::new(file_store(&dir)).await;
    let (app, store) = world.process().await;
    let clock = world.clock.as_ref();
    let body = mention("UANA", "any alarms firing?", "Ev1", "1700000100.000100");
    let good = signed(clock, body.clone(), 0);

    let mut refusals = Vec::new();
    // Missing signature.
    let r = app
        .client
        .post(format!("{}/slack/events", app.base))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    refusals.push(("missing", r.status().as_u16()));
    // A signature under another secret.
    let ts = good.ts;
    let forged = Signed {
        body: body.clone(),
        ts,
        signature: opsvoice::channel::slack::verify::sign(b"not the secret", ts, &body),
    };
    refusals.push((
        "bad",
        send(&app, "/slack/events", "application/json", &forged, None)
            .await
            .0,
    ));
    // Stale: 301 s old, signed correctly for that time.
    let stale = signed(clock, body.clone(), -301);
    refusals.push((
        "stale",
        send(&app, "/slack/events", "application/json", &stale, None)
            .await
            .0,
    ));
    // A recorded signature replayed with another body.
    let other = mention("UANA", "how is etl doing", "Ev2", "1700000100.000100");
    let replayed = Signed {
        body: other,
        ts,
        signature: good.signature.clone(),
    };
    refusals.push((
        "replayed",
        send(&app, "/slack/events", "application/json", &replayed, None)
            .await
            .0,
    ));
    // The same for commands and interactions, and an empty body.
    let command = b"team_id=T0001&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=link".to_vec();
    let stale_command = signed(clock, command, -400);
    refusals.push((
        "command",
        send(
            &app,
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &stale_command,
            None,
        )
        .await
        .0,
    ));
    let empty = app
        .client
        .post(format!("{}/slack/interactions", app.base))
        .send()
        .await
        .unwrap();
    refusals.push(("empty", empty.status().as_u16()));
    assert!(refusals.iter().all(|(_, s)| *s == 401), "{refusals:?}");

    // None of them reached Slack (a 401 starts nothing; the count below, once the good
    // one is settled, is the proof that nothing came later).
    assert!(world.slack.posts().is_empty(), "{:?}", world.slack.posts());

    // Slack's URL check is answered with its challenge.
    let check = serde_json::to_vec(
        &json!({ "type": "url_verification", "challenge": "3eZbrw1aB", "token": "x" }),
    )
    .unwrap();
    let (status, text) = send(
        &app,
        "/slack/events",
        "application/json",
        &signed(clock, check, 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["challenge"],
        "3eZbrw1aB"
    );

    // The good one is answered (an unlinked user, on live data: the link button), once,
    // although Slack delivers it three times and the first post is rate limited.
    world
        .slack
        .fail_next(Failure::RateLimited { retry_after: 1 });
    for retry in [None, Some(1), Some(2)] {
        let again = signed(clock, body.clone(), 0);
        // The first is acknowledged; a retry while it is being answered is told to come
        // back later (503), one after it was answered is acknowledged.
        let status = send(&app, "/slack/events", "application/json", &again, retry)
            .await
            .0;
        assert!(
            status == 200 || (retry.is_some() && status == 503),
            "{retry:?}: {status}"
        );
    }
    // The retries were answered on arrival (503 or 200) and start nothing: once Ev1 is
    // settled, every post it will ever get is in.
    answered(store.as_ref(), "Ev1").await;
    let posts = world.slack.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].method, "chat.postEphemeral");
    assert!(world.slack.attempts() >= 2, "the 429 was retried");
    assert_all_valid(&world.slack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_whose_answer_died_is_answered_on_slacks_next_retry_and_a_failed_post_is_posted_again()
 {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::new(file_store(&dir)).await;
    let (app, store) = world.process().await;
    let clock = world.clock.clone();
    // Another process claimed Ev40 and died before answering.
    store
        .create(
            &opsvoice::store::Key::slack_event("Ev40"),
            "answering",
            clock.now() + opsvoice::channel::slack::CLAIM_LEASE,
        )
        .await
        .unwrap();
    // Slack is told to come back later (not acknowledged, so its next retry comes).
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev40").await,
        503
    );
    // (The 503 starts nothing; the count once Ev41 is settled below proves no post came.)
    assert!(world.slack.posts().is_empty(), "held by the other claim");
    // Slack retries a minute later: the claim has lapsed, so this one answers.
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev40").await,
        200
    );
    answered(store.as_ref(), "Ev40").await;
    assert_eq!(world.slack.posts().len(), 1);
    // And it is remembered as answered: a later retry posts nothing (counted below, after
    // Ev41's answer, which comes seconds later).
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev40").await,
        200
    );

    // Slack down for a whole call: `serve` has acknowledged the event, so it posts again
    // itself, after a wait, holding the claim meanwhile; then it is answered.
    for _ in 0..3 {
        world.slack.fail_next(Failure::ServerError);
    }
    let before = world.slack.attempts();
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev41").await,
        200
    );
    // The whole call has failed once Slack has refused all three attempts; the next post
    // comes only after a wait of seconds.
    let slack = &world.slack;
    until("Slack refused the three attempts", || {
        slack.attempts() >= before + 3
    })
    .await;
    assert_eq!(
        world.slack.posts().len(),
        1,
        "not yet: it waits before posting again"
    );
    let held = store
        .get(&opsvoice::store::Key::slack_event("Ev41"))
        .await
        .unwrap();
    assert_eq!(
        held.as_deref(),
        Some("answering"),
        "the claim is held while it retries"
    );
    assert_eq!(
        world.slack.wait_for(2, Duration::from_secs(15)).await.len(),
        2
    );
    answered(store.as_ref(), "Ev41").await;
    // Ev40's last retry posted nothing, Ev41 posted once.
    assert_eq!(world.slack.posts().len(), 2, "{:?}", world.slack.posts());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_dynamodb_table_share_links_and_answer_each_event_once() {
    let mut world = World::new(|_| StoreLocation::Dynamo("opsvoice".to_owned())).await;
    let sdk = world.moto.sdk().await;
    common::moto::store_table(&sdk, "opsvoice").await;
    let (a, store) = world.process().await;
    let clock = world.clock.clone();
    assert_eq!(
        ask(&a, clock.as_ref(), "UANA", "any alarms firing?", "Ev20").await,
        200
    );
    let posts = world.slack.wait_for(1, WAIT).await;
    let url = link_url(&posts[0]);
    let (status, page) = world.follow(&a, &url, "ana").await;
    assert_eq!(status, 200, "{page}");
    world.slack.wait_for(2, WAIT).await;

    // Process b shares the table: ana is linked there too.
    let (b, _) = world.process().await;
    assert_eq!(
        ask(&b, clock.as_ref(), "UANA", "how is checkout doing", "Ev21").await,
        200
    );
    let posts = world.slack.wait_for(3, WAIT).await;
    assert_eq!(posts[2].method, "chat.postMessage", "{:#}", posts[2].body);
    assert!(
        posts[2].body["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("checkout")
    );

    // One event delivered to both (Slack retrying onto another instance): one answer.
    let (ra, rb) = tokio::join!(
        ask(&a, clock.as_ref(), "UANA", "any alarms firing?", "Ev22"),
        ask(&b, clock.as_ref(), "UANA", "any alarms firing?", "Ev22"),
    );
    // One answers; the other is told to come back (or, if it came second, acknowledged).
    assert!(
        [(200, 200), (200, 503), (503, 200)].contains(&(ra, rb)),
        "{ra} {rb}"
    );
    // The loser answered on arrival and started nothing; the winner settles the shared
    // record once its answer is posted.
    answered(store.as_ref(), "Ev22").await;
    assert_eq!(world.slack.posts().len(), 4, "{:?}", world.slack.posts());
    assert_all_valid(&world.slack);
}

#[tokio::test]
async fn the_dynamodb_store_is_atomic_against_moto() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    common::moto::store_table(&sdk, "t").await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let store = opsvoice::store::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        "t".to_owned(),
        clock.clone(),
    );
    let soon = clock.now() + Duration::from_secs(60);
    let (key_k, key_p) = (
        opsvoice::store::Key::event("k"),
        opsvoice::store::Key::event("p"),
    );
    let (x, y) = tokio::join!(
        store.create(&key_k, "x", soon),
        store.create(&key_k, "y", soon)
    );
    assert!(x.unwrap() ^ y.unwrap(), "exactly one create wins");
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        store.get(&key_k).await.unwrap(),
        None,
        "expired reads as absent"
    );
    assert!(
        store
            .create(&key_k, "z", clock.now() + Duration::from_secs(60))
            .await
            .unwrap()
    );
    let (x, y) = tokio::join!(store.take(&key_k), store.take(&key_k));
    let taken: Vec<String> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec!["z".to_owned()], "taken once");
    store
        .put(&key_p, "1", clock.now() + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(store.get(&key_p).await.unwrap().as_deref(), Some("1"));
    store.delete(&key_p).await.unwrap();
    assert_eq!(store.get(&key_p).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slacks_own_message_im_example_is_answered() {
    // Slack's documented `message.im` example (tests/fixtures/slack/SOURCES.md): its
    // authorization is the sender's own installation (`is_bot: false`), so the sender is
    // not us, and the direct message is a question to answer.
    let dir = tempfile::tempdir().unwrap();
    let Demo {
        app,
        slack,
        store,
        clock,
    } = demo(&dir).await;

    let example = common::fixture("slack/message-im.json");
    let body = serde_json::to_vec(&example).unwrap();
    let (status, text) = send(
        &app,
        "/slack/events",
        "application/json",
        &signed(clock.as_ref(), body, 0),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let posts = slack.wait_for(1, WAIT).await;
    assert_eq!(posts.len(), 1, "the direct message was dropped");
    assert_eq!(posts[0].method, "chat.postMessage");
    assert_eq!(posts[0].body["channel"], "D024BE91L");
    assert_eq!(posts[0].body["thread_ts"], "1355517523.000005");

    // Our own messages are still never answered: a post by our app (its `app_id`, with
    // or without `bot_id`) and one by the bot user an authorization names as a bot.
    let ours = [
        ("Ev0OURS1", json!({ "app_id": "A0PNCHHK2" }), json!(false)),
        ("Ev0OURS2", json!({ "bot_id": "B0OURS" }), json!(false)),
        ("Ev0OURS3", json!({ "user": "UBOT" }), json!(true)),
    ];
    for (id, extra, is_bot) in ours {
        let mut event = example.clone();
        event["event_id"] = json!(id);
        event["event"]["ts"] = json!("1355517600.000100");
        for (k, v) in extra.as_object().unwrap() {
            event["event"][k] = v.clone();
        }
        if is_bot == json!(true) {
            event["authorizations"][0]["user_id"] = json!("UBOT");
            event["authorizations"][0]["is_bot"] = json!(true);
        }
        let body = serde_json::to_vec(&event).unwrap();
        let status = send(
            &app,
            "/slack/events",
            "application/json",
            &signed(clock.as_ref(), body, 0),
            None,
        )
        .await
        .0;
        assert_eq!(status, 200);
        // Ignored events are acknowledged without a claim: nothing is recorded for them.
        assert_eq!(
            store
                .get(&opsvoice::store::Key::slack_event(id))
                .await
                .unwrap(),
            None,
            "{id} was taken as a question"
        );
    }
    // A last question from the user marks the end: once it is posted, nothing was posted
    // for the three of ours before it.
    let mut last = example.clone();
    last["event_id"] = json!("Ev0LAST");
    last["event"]["ts"] = json!("1355517700.000100");
    let body = serde_json::to_vec(&last).unwrap();
    send(
        &app,
        "/slack/events",
        "application/json",
        &signed(clock.as_ref(), body, 0),
        None,
    )
    .await;
    answered(store.as_ref(), "Ev0LAST").await;
    let posts = slack.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[1].body["thread_ts"], "1355517700.000100");
}
