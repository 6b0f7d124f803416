//! The native Slack app end to end: signed requests in, posts to a loopback Slack Web API
//! stand-in out, account links made through a loopback hosted-UI stand-in that hands out
//! real moto Cognito tokens, live answers from moto's ECS and CloudWatch, and links kept in
//! the embedded SQLite store and in moto's DynamoDB.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::StateValue;
use common::hosted_ui::HostedUi;
use common::moto::{Fleet, Live, Moto, UserPool};
use common::slack_stub::{Failure, Post, SlackStub, block_kit_problem};
use opsvoice::clock::ManualClock;
use opsvoice::config::{Backend, Config, Secret, StoreLocation};
use opsvoice::ops::Clock;
use opsvoice::store::Store;
use serde_json::{Value, json};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const BOT_TOKEN: &str = "xoxb-test-token";
const CLIENT_SECRET: &str = "link-client-secret";
const TEAM: &str = "T0001";
const WAIT: Duration = Duration::from_secs(10);

const POLICY: &str = r#"
[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]

[groups.conference-room]
clusters = ["prod"]
services = ["*"]
intents  = ["FleetSummary", "ActiveAlarms", "ServiceHealth"]
"#;

/// A request body signed as Slack signs it, `skew` seconds from the clock.
struct Signed {
    body: Vec<u8>,
    ts: i64,
    signature: String,
}

fn signed(clock: &dyn Clock, body: Vec<u8>, skew: i64) -> Signed {
    let ts = opsvoice::store::epoch(clock.now()) + skew;
    let signature = opsvoice::channel::slack::verify::sign(SECRET.as_bytes(), ts, &body);
    Signed {
        body,
        ts,
        signature,
    }
}

async fn send(
    app: &common::TestApp,
    path: &str,
    content_type: &str,
    s: &Signed,
    retry: Option<u32>,
) -> (u16, String) {
    let mut request = app
        .client
        .post(format!("{}{path}", app.base))
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", s.ts.to_string())
        .header("x-slack-signature", &s.signature)
        .body(s.body.clone());
    if let Some(n) = retry {
        request = request
            .header("x-slack-retry-num", n.to_string())
            .header("x-slack-retry-reason", "http_timeout");
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn mention(user: &str, text: &str, event_id: &str, ts: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "token": "unused",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_700_000_000,
        "authorizations": [{ "team_id": TEAM, "user_id": "UBOT", "is_bot": true }],
        "event": {
            "type": "app_mention",
            "user": user,
            "text": format!("<@UBOT> {text}"),
            "ts": ts,
            "channel": "C0OPS",
            "event_ts": ts,
        },
    }))
    .unwrap()
}

async fn ask(
    app: &common::TestApp,
    clock: &dyn Clock,
    user: &str,
    text: &str,
    event_id: &str,
) -> u16 {
    let body = mention(user, text, event_id, "1700000100.000200");
    send(
        app,
        "/slack/events",
        "application/json",
        &signed(clock, body, 0),
        None,
    )
    .await
    .0
}

/// Every post Slack accepted is valid Block Kit with a fallback; none was refused.
fn assert_all_valid(slack: &SlackStub) {
    assert!(
        slack.refused().is_empty(),
        "Slack refused: {:?}",
        slack.refused()
    );
    for post in slack.posts() {
        assert_eq!(block_kit_problem(&post.body), None, "{:#}", post.body);
    }
}

fn link_url(post: &Post) -> String {
    let blocks = post.body["blocks"].as_array().unwrap();
    let buttons: Vec<&Value> = blocks
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap())
        .collect();
    assert_eq!(buttons.len(), 1, "only the link button: {:#}", post.body);
    buttons[0]["url"].as_str().unwrap().to_owned()
}

/// The moto fleet, pool and hosted UI, and an app that answers Slack from them.
struct World {
    moto: Moto,
    users: UserPool,
    clock: Arc<ManualClock>,
    slack: SlackStub,
    hosted: HostedUi,
    config: Config,
    _policy: tempfile::NamedTempFile,
}

impl World {
    async fn new(store: impl FnOnce(&Moto) -> StoreLocation) -> Self {
        let fleet = Fleet::new()
            .service("prod", "checkout", 2)
            .service("data", "etl", 2)
            .alarm(
                "etl-cpu-high",
                "data",
                "etl",
                StateValue::Alarm,
                "Threshold Crossed: 95 > 80.",
            );
        let moto = Moto::seeded(&fleet).await;
        let sdk = moto.sdk().await;
        let users = UserPool::create(&sdk).await;
        for group in ["oncall", "conference-room"] {
            users.group(group).await;
        }
        users.sign_in("ana", Some("oncall")).await;
        users.sign_in("bob", Some("conference-room")).await;
        let mut policy = tempfile::NamedTempFile::new().unwrap();
        policy.write_all(POLICY.as_bytes()).unwrap();
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let slack = SlackStub::start(BOT_TOKEN).await;
        let location = store(&moto);
        let config = Config {
            backend: Backend::Aws,
            cognito: opsvoice::config::Cognito {
                user_pool_id: Some(users.pool.clone()),
                client_ids: vec![users.client.clone()],
                region: Some("us-east-1".to_owned()),
                jwks_url: Some(format!(
                    "{}/{}/.well-known/jwks.json",
                    moto.url(),
                    users.pool
                )),
                ..opsvoice::config::Cognito::default()
            },
            policy_file: Some(policy.path().to_owned()),
            slack: opsvoice::config::Slack {
                signing_secret: Some(Secret::new(SECRET)),
                bot_token: Some(Secret::new(BOT_TOKEN)),
                api_url: Some(slack.base.clone()),
            },
            store: Some(location),
            store_key: Some(Secret::new([42u8; 32].to_vec())),
            ..Config::default()
        };
        // The hosted UI needs the callback, which needs the app's address: bound per app.
        let hosted = HostedUi::start(
            users.cognito.clone(),
            &users.client,
            Some(CLIENT_SECRET),
            "http://placeholder/link/callback",
        )
        .await;
        Self {
            moto,
            users,
            clock,
            slack,
            hosted,
            config,
            _policy: policy,
        }
    }

    /// An app process (its own assistant, cache and store connection) on a fresh port,
    /// with its hosted UI stand-in registered for its callback.
    async fn process(&mut self) -> (common::TestApp, Arc<dyn Store>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let public = format!("http://{}", listener.local_addr().unwrap());
        self.hosted = HostedUi::start(
            self.users.cognito.clone(),
            &self.users.client,
            Some(CLIENT_SECRET),
            &format!("{public}/link/callback"),
        )
        .await;
        let mut config = self.config.clone();
        config.link = opsvoice::config::Link {
            public_url: Some(public),
            cognito_domain: Some(self.hosted.base.clone()),
            client_id: Some(self.users.client.clone()),
            client_secret: Some(Secret::new(CLIENT_SECRET)),
            ..opsvoice::config::Link::default()
        };
        assert!(
            config.slack_problems().is_empty(),
            "{:?}",
            config.slack_problems()
        );
        let clock: Arc<dyn Clock> = self.clock.clone();
        let sdk = self.moto.sdk().await;
        let mut assistant = Live::with(
            aws_sdk_ecs::Client::new(&sdk),
            aws_sdk_cloudwatch::Client::new(&sdk),
            clock.clone(),
            &config,
        )
        .assistant;
        Arc::get_mut(&mut assistant).unwrap().identity =
            opsvoice::identity(&config, clock.clone()).unwrap();
        let store: Arc<dyn Store> = match config.store.clone().unwrap() {
            StoreLocation::Dynamo(table) => Arc::new(opsvoice::store::dynamo::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                table,
                clock.clone(),
            )),
            StoreLocation::File(path) => {
                Arc::new(opsvoice::store::file::FileStore::open(&path, clock.clone()).unwrap())
            }
        };
        let slack =
            opsvoice::app::slack(&config, assistant.clone(), store.clone(), clock.clone()).unwrap();
        let state = opsvoice::server::AppState {
            assistant,
            metrics: opsvoice::telemetry::metrics(),
            alexa: Arc::new(
                opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, clock).unwrap(),
            ),
            slack: Some(slack),
            events: Default::default(),
        };
        (common::serve_state(listener, state, &config).await, store)
    }

    /// Follows a link button as a browser would, signed in at the hosted UI as `user`:
    /// the final status and page.
    async fn follow(&self, app: &common::TestApp, url: &str, user: &str) -> (u16, String) {
        self.hosted.at_browser(user);
        let start = app.client.get(url).send().await.unwrap();
        if start.status() != 302 {
            let status = start.status().as_u16();
            return (status, start.text().await.unwrap());
        }
        let authorize = start.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            authorize.starts_with(&format!("{}/oauth2/authorize?", self.hosted.base)),
            "{authorize}"
        );
        let back = app.client.get(&authorize).send().await.unwrap();
        assert_eq!(
            back.status(),
            302,
            "the hosted UI refused: {}",
            back.text().await.unwrap()
        );
        let callback = back.headers()["location"].to_str().unwrap().to_owned();
        let done = app.client.get(&callback).send().await.unwrap();
        (done.status().as_u16(), done.text().await.unwrap())
    }
}

fn file_store(dir: &tempfile::TempDir) -> impl FnOnce(&Moto) -> StoreLocation + '_ {
    move |_| StoreLocation::File(dir.path().join("store.db"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_are_not_slacks_are_refused_and_never_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::new(file_store(&dir)).await;
    let (app, _) = world.process().await;
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

    // None of them reached Slack, even later.
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    let posts = world.slack.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts_after = world.slack.posts();
    assert_eq!(posts_after.len(), 1, "{posts_after:?}");
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
            "slack-event#Ev40",
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
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(world.slack.posts().is_empty(), "held by the other claim");
    // Slack retries a minute later: the claim has lapsed, so this one answers.
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev40").await,
        200
    );
    assert_eq!(world.slack.wait_for(1, WAIT).await.len(), 1);
    // And it is remembered as answered: a later retry posts nothing.
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev40").await,
        200
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(world.slack.posts().len(), 1);

    // Slack down for a whole call: `serve` has acknowledged the event, so it posts again
    // itself, after a wait, holding the claim meanwhile; then it is answered.
    for _ in 0..3 {
        world.slack.fail_next(Failure::ServerError);
    }
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "any alarms firing?", "Ev41").await,
        200
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        world.slack.posts().len(),
        1,
        "not yet: it waits before posting again"
    );
    let held = store.get("slack-event#Ev41").await.unwrap();
    assert_eq!(
        held.as_deref(),
        Some("answering"),
        "the claim is held while it retries"
    );
    assert_eq!(
        world.slack.wait_for(2, Duration::from_secs(15)).await.len(),
        2
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while store.get("slack-event#Ev41").await.unwrap().as_deref() != Some("answered") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never settled as answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_dynamodb_table_share_links_and_answer_each_event_once() {
    let mut world = World::new(|_| StoreLocation::Dynamo("opsvoice".to_owned())).await;
    let sdk = world.moto.sdk().await;
    common::moto::store_table(&sdk, "opsvoice").await;
    let (a, _) = world.process().await;
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
    world.slack.wait_for(4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
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
    let (x, y) = tokio::join!(store.create("k", "x", soon), store.create("k", "y", soon));
    assert!(x.unwrap() ^ y.unwrap(), "exactly one create wins");
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        store.get("k").await.unwrap(),
        None,
        "expired reads as absent"
    );
    assert!(
        store
            .create("k", "z", clock.now() + Duration::from_secs(60))
            .await
            .unwrap()
    );
    let (x, y) = tokio::join!(store.take("k"), store.take("k"));
    let taken: Vec<String> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec!["z".to_owned()], "taken once");
    store
        .put("p", "1", clock.now() + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(store.get("p").await.unwrap().as_deref(), Some("1"));
    store.delete("p").await.unwrap();
    assert_eq!(store.get("p").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_commands_and_buttons_answer_on_the_demo_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let slack = SlackStub::start(BOT_TOKEN).await;
    let config = Config {
        slack: opsvoice::config::Slack {
            signing_secret: Some(Secret::new(SECRET)),
            bot_token: Some(Secret::new(BOT_TOKEN)),
            api_url: Some(slack.base.clone()),
        },
        store: Some(StoreLocation::File(dir.path().join("s.db"))),
        ..Config::default()
    };
    let clock = common::clock();
    let assistant = common::assistant();
    let store: Arc<dyn Store> = Arc::new(
        opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock.clone()).unwrap(),
    );
    let mute_store = store.clone();
    let state = opsvoice::server::AppState {
        assistant: assistant.clone(),
        metrics: opsvoice::telemetry::metrics(),
        alexa: Arc::new(
            opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, clock.clone())
                .unwrap(),
        ),
        slack: Some(opsvoice::app::slack(&config, assistant, store, clock.clone()).unwrap()),
        events: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = common::serve_state(listener, state, &config).await;

    // A question as a slash command: answered in the response, privately, as Block Kit.
    let form = "team_id=T0001&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=any+alarms+firing%3F&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1";
    let (status, text) = send(
        &app,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.as_bytes().to_vec(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(
        reply["text"].as_str().unwrap().contains("alarm"),
        "{reply:#}"
    );
    assert_eq!(block_kit_problem(&reply), None, "{reply:#}");
    // `/ops` alone is help.
    let help = "team_id=T0001&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=";
    let (_, text) = send(
        &app,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), help.as_bytes().to_vec(), 0),
        None,
    )
    .await;
    assert!(text.to_lowercase().contains("ask"), "{text}");
    // Without account linking set up, `/ops link` says so rather than failing.
    let link = "team_id=T0001&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=link";
    let (_, text) = send(
        &app,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), link.as_bytes().to_vec(), 0),
        None,
    )
    .await;
    assert!(text.contains("not set up"), "{text}");

    // A follow-up button: answered in the button's thread, for everyone there.
    let payload = json!({
        "type": "block_actions",
        "user": { "id": "UANA", "team_id": TEAM },
        "team": { "id": TEAM },
        "channel": { "id": "C0OPS" },
        "container": { "type": "message", "message_ts": "1700000200.000100", "channel_id": "C0OPS" },
        "message": { "ts": "1700000200.000100", "thread_ts": "1700000100.000200" },
        "actions": [{ "action_id": "ask-2", "type": "button", "value": "what's the cpu of checkout" }],
        "response_url": "https://hooks.slack.com/actions/1",
    });
    let form = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let (status, _) = send(
        &app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.into_bytes(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let posts = slack.wait_for(1, WAIT).await;
    assert_eq!(posts[0].method, "chat.postMessage");
    assert_eq!(posts[0].body["thread_ts"], "1700000100.000200");
    assert!(
        posts[0].body["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("cpu"),
        "{:#}",
        posts[0].body
    );

    // A button on a private (slash-command) answer: answered privately, through the
    // interaction's response_url.
    let payload = json!({
        "type": "block_actions",
        "user": { "id": "UANA", "team_id": TEAM },
        "team": { "id": TEAM },
        "channel": { "id": "D0SOMEONE" },
        "container": { "type": "message", "message_ts": "1700000600.000100", "channel_id": "D0SOMEONE", "is_ephemeral": true },
        "actions": [{ "action_id": "ask-0", "type": "button", "value": "any alarms firing" }],
        "response_url": slack.response_url("private-1"),
    });
    let form = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let (status, _) = send(
        &app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.into_bytes(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let posts = slack.wait_for(2, WAIT).await;
    assert_eq!(posts[1].method, "response_url", "{:#}", posts[1].body);
    assert_eq!(posts[1].body["response_type"], "ephemeral");
    assert!(posts[1].body["text"].as_str().unwrap().contains("alarm"));

    // A card's "Mute for 1 hour": recorded for that channel, and said in the thread.
    let payload = json!({
        "type": "block_actions",
        "user": { "id": "UANA", "team_id": TEAM },
        "team": { "id": TEAM },
        "channel": { "id": "C0OPS" },
        "message": { "ts": "1700000500.000100" },
        "actions": [{ "action_id": "mute", "type": "button", "value": "prod/checkout" }],
    });
    let form = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let (status, _) = send(
        &app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.into_bytes(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let posts = slack.wait_for(3, WAIT).await;
    assert!(
        posts[2].body["text"]
            .as_str()
            .unwrap()
            .starts_with("Muted prod/checkout here for an hour"),
        "{:#}",
        posts[2].body
    );
    assert_eq!(posts[2].body["thread_ts"], "1700000500.000100");
    assert!(
        mute_store
            .get(&opsvoice::notify::mute_key("C0OPS", "prod/checkout"))
            .await
            .unwrap()
            .is_some()
    );

    // Direct messages are answered; bot messages and edits are not.
    for (id, extra) in [
        ("Ev30", json!({})),
        ("Ev31", json!({ "bot_id": "B1" })),
        ("Ev32", json!({ "subtype": "message_changed" })),
    ] {
        let mut event = json!({
            "type": "event_callback", "team_id": TEAM, "event_id": id,
            "event": { "type": "message", "channel_type": "im", "user": "UANA", "text": "how is checkout doing", "ts": "1700000300.000100", "channel": "D0ANA" },
        });
        for (k, v) in extra.as_object().unwrap() {
            event["event"][k] = v.clone();
        }
        let body = serde_json::to_vec(&event).unwrap();
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
    }
    let posts = slack.wait_for(4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(slack.posts().len(), 4, "{:?}", slack.posts());
    assert_eq!(posts[3].body["channel"], "D0ANA");
    assert!(slack.refused().is_empty(), "{:?}", slack.refused());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slacks_own_message_im_example_is_answered() {
    // Slack's documented `message.im` example (tests/fixtures/slack/SOURCES.md): its
    // authorization is the sender's own installation (`is_bot: false`), so the sender is
    // not us, and the direct message is a question to answer.
    let dir = tempfile::tempdir().unwrap();
    let slack = SlackStub::start(BOT_TOKEN).await;
    let config = Config {
        slack: opsvoice::config::Slack {
            signing_secret: Some(Secret::new(SECRET)),
            bot_token: Some(Secret::new(BOT_TOKEN)),
            api_url: Some(slack.base.clone()),
        },
        store: Some(StoreLocation::File(dir.path().join("s.db"))),
        ..Config::default()
    };
    let clock = common::clock();
    let assistant = common::assistant();
    let store: Arc<dyn Store> = Arc::new(
        opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock.clone()).unwrap(),
    );
    let state = opsvoice::server::AppState {
        assistant: assistant.clone(),
        metrics: opsvoice::telemetry::metrics(),
        alexa: Arc::new(
            opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, clock.clone())
                .unwrap(),
        ),
        slack: Some(
            opsvoice::app::slack(&config, assistant, store.clone(), clock.clone()).unwrap(),
        ),
        events: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = common::serve_state(listener, state, &config).await;

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
            store.get(&format!("slack-event#{id}")).await.unwrap(),
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
    let posts = slack.wait_for(2, WAIT).await;
    assert_eq!(posts[1].body["thread_ts"], "1355517700.000100");
    assert_eq!(slack.posts().len(), 2, "{:?}", slack.posts());
}
