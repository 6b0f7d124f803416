//! Account links through Slack: the link button, the hosted UI, answers per the linked
//! user's groups, and links that outlive a process.
#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_slack_user_is_answered_per_their_groups_and_links_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::new(file_store(&dir)).await;
    let (app, _) = world.process().await;
    let clock = world.clock.clone();

    // Unlinked: the link button, privately, and nothing else.
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "how is etl doing", "Ev10").await,
        200
    );
    let posts = world.slack.wait_for(1, WAIT).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].method, "chat.postEphemeral");
    assert_eq!(posts[0].body["user"], "UANA");
    assert!(
        !posts[0].body["text"].as_str().unwrap().contains("etl is"),
        "{:#}",
        posts[0].body
    );
    let url = link_url(&posts[0]);

    // Linking, as a browser: start, hosted UI, callback.
    let (status, page) = world.follow(&app, &url, "ana").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Linked as ana. You can close this tab."),
        "{page}"
    );
    let told = world.slack.wait_for(2, WAIT).await;
    assert!(
        told[1].body["text"]
            .as_str()
            .unwrap()
            .contains("Linked as ana"),
        "{:#}",
        told[1].body
    );
    assert_eq!(told[1].body["user"], "UANA");

    // The same link again (a replayed callback, or the start link) is refused.
    let (status, page) = world.follow(&app, &url, "ana").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("expired or was already used"), "{page}");

    // Now ana is answered from live data, in the thread, with follow-up buttons.
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "how is etl doing", "Ev11").await,
        200
    );
    let posts = world.slack.wait_for(3, WAIT).await;
    let answer = &posts[2];
    assert_eq!(answer.method, "chat.postMessage");
    assert_eq!(answer.body["thread_ts"], "1700000100.000200");
    let text = answer.body["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("etl"), "{text}");
    assert!(text.contains("alarm"), "{text}");
    let blocks = answer.body["blocks"].as_array().unwrap();
    assert!(
        blocks.iter().any(|b| b["type"] == "actions"),
        "follow-up buttons: {:#}",
        answer.body
    );
    assert!(
        blocks.iter().any(|b| b["type"] == "context"),
        "freshness: {:#}",
        answer.body
    );

    // A follow-up in the thread follows the thread.
    let follow_up = mention("UANA", "and its deployment?", "Ev12", "1700000101.000300");
    let mut follow_up: Value = serde_json::from_slice(&follow_up).unwrap();
    follow_up["event"]["thread_ts"] = json!("1700000100.000200");
    let body = serde_json::to_vec(&follow_up).unwrap();
    assert_eq!(
        send(
            &app,
            "/slack/events",
            "application/json",
            &signed(clock.as_ref(), body, 0),
            None
        )
        .await
        .0,
        200
    );
    let posts = world.slack.wait_for(4, WAIT).await;
    let deploy = posts[3].body["text"].as_str().unwrap().to_lowercase();
    assert!(
        deploy.contains("etl") && deploy.contains("deploy"),
        "{deploy}"
    );

    // A second user, bob, is not ana: unlinked, he gets the link button; linked, his
    // group may not ask about the data cluster.
    assert_eq!(
        ask(&app, clock.as_ref(), "UBOB", "how is etl doing", "Ev13").await,
        200
    );
    let posts = world.slack.wait_for(5, WAIT).await;
    assert_eq!(posts[4].method, "chat.postEphemeral");
    let bob_url = link_url(&posts[4]);
    let (status, page) = world.follow(&app, &bob_url, "bob").await;
    assert_eq!(status, 200, "{page}");
    world.slack.wait_for(6, WAIT).await;
    assert_eq!(
        ask(&app, clock.as_ref(), "UBOB", "how is etl doing", "Ev14").await,
        200
    );
    let posts = world.slack.wait_for(7, WAIT).await;
    let bob = posts[6].body["text"].as_str().unwrap().to_lowercase();
    assert!(!bob.contains("alarm") && !bob.contains("running"), "{bob}");
    assert!(bob.contains("have access"), "{bob}");

    // An expired state: a fresh link button, used after 11 minutes.
    assert_eq!(
        ask(&app, clock.as_ref(), "UCAROL", "any alarms firing?", "Ev15").await,
        200
    );
    let posts = world.slack.wait_for(8, WAIT).await;
    let carol_url = link_url(&posts[7]);
    clock.advance(Duration::from_secs(11 * 60));
    let (status, page) = world.follow(&app, &carol_url, "ana").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("expired"), "{page}");

    // A restart: a new process over the same store file still knows ana. Her access token
    // has expired by now (the hosted UI says 120 s), so it is renewed first.
    drop(app);
    let (app, _) = world.process().await;
    let before = world.hosted.refreshes();
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev16").await,
        200
    );
    let posts = world.slack.wait_for(9, WAIT).await;
    assert_eq!(posts[8].method, "chat.postMessage", "{:#}", posts[8].body);
    assert!(
        posts[8].body["text"].as_str().unwrap().contains("etl"),
        "{:#}",
        posts[8].body
    );
    assert_eq!(
        world.hosted.refreshes(),
        before + 1,
        "the expired access token was renewed"
    );

    // Unlink works: `/ops unlink`, answered privately in the response.
    let command = format!(
        "team_id={TEAM}&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=unlink&response_url={}",
        url::form_urlencoded::byte_serialize(world.slack.response_url("1").as_bytes())
            .collect::<String>()
    );
    let (status, text) = send(
        &app,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), command.into_bytes(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(
        reply["text"].as_str().unwrap().starts_with("Unlinked"),
        "{reply:#}"
    );
    assert_eq!(block_kit_problem(&reply), None);
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev17").await,
        200
    );
    let posts = world.slack.wait_for(10, WAIT).await;
    let url = link_url(&posts[9]);

    // A failed renewal drops the link: linked again, then the refresh token is revoked.
    let (status, _) = world.follow(&app, &url, "ana").await;
    assert_eq!(status, 200);
    world.slack.wait_for(11, WAIT).await;
    clock.advance(Duration::from_secs(300));
    world.hosted.revoke_refresh();
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev18").await,
        200
    );
    let posts = world.slack.wait_for(12, WAIT).await;
    assert_eq!(
        posts[11].method, "chat.postEphemeral",
        "{:#}",
        posts[11].body
    );
    link_url(&posts[11]);

    assert_all_valid(&world.slack);
}

/// Issue 30, "a push-only Slack setup refuses to start": a signing secret, a bot token and
/// notification routes but no account linking, on live data, made `serve` exit ("every
/// Slack user would be refused"). Pushing cards needs no linking: the app builds (as
/// `serve` builds it), the notifier is there, and a question from Slack gets a clear
/// "account linking is not set up" instead of an answer.
#[tokio::test]
async fn a_push_only_slack_setup_starts_and_tells_askers_linking_is_not_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[groups.oncall]\nclusters = [\"*\"]\nservices = [\"*\"]\nintents = [\"*\"]\n",
    )
    .unwrap();
    let routes = dir.path().join("notify.toml");
    std::fs::write(
        &routes,
        "[[route]]\nchannel = \"C0OPS00001\"\ngroup = \"oncall\"\n",
    )
    .unwrap();
    let config = Config {
        aws: opsvoice::config::Aws {
            backend: opsvoice::config::Backend::Aws,
            region: Some("us-east-1".to_owned()),
            ..opsvoice::config::Aws::default()
        },
        cognito: opsvoice::config::Cognito {
            user_pool_id: Some("us-east-1_abcdef".to_owned()),
            client_ids: vec!["client1".to_owned()],
            policy_file: Some(policy),
            ..opsvoice::config::Cognito::default()
        },
        slack: opsvoice::config::Slack {
            signing_secret: Some(opsvoice::config::Secret::new("s")),
            bot_token: Some(opsvoice::config::Secret::new("xoxb-1")),
            api_url: Some("http://127.0.0.1:9".to_owned()),
        },
        notify: opsvoice::config::Notify {
            file: Some(routes),
            ..opsvoice::config::Notify::default()
        },
        store: opsvoice::config::Store {
            location: Some(opsvoice::config::StoreLocation::File(
                dir.path().join("store.db"),
            )),
            ..opsvoice::config::Store::default()
        },
        ..Config::default()
    };
    assert!(config.errors().is_empty(), "{:?}", config.errors());
    let clock = common::clock();
    let state = opsvoice::builder(&config)
        .clock(clock.clone())
        .ops(Arc::new(opsvoice::ops::demo::DemoFleet::new(clock)))
        .lex(None)
        .build()
        .await
        .expect("a push-only Slack setup starts");
    assert!(state.events.notifier.is_some(), "cards are pushed");
    let slack = state.slack.expect("the Slack routes are served");
    let reply = slack
        .reply(
            &opsvoice::auth::link::SlackUser {
                team: "T1".to_owned(),
                user: "U1".to_owned(),
            },
            "any alarms firing?",
            &opsvoice::channel::slack::Place {
                channel: "C0OPS00001".to_owned(),
                thread_ts: None,
            },
        )
        .await;
    let opsvoice::channel::slack::Outgoing::Private(message) = reply else {
        panic!("answered in public: {reply:?}");
    };
    let text = format!(
        "{} {}",
        message.text,
        serde_json::Value::Array(message.blocks)
    );
    assert!(text.contains("linking is not set up"), "{text}");
    assert!(!text.contains("alarm"), "no data: {text}");
}
