//! The native Slack app end to end: signed requests in, posts to a loopback Slack Web API
//! stand-in out, account links made through a loopback hosted-UI stand-in that hands out
//! real moto Cognito tokens, live answers from moto's ECS and CloudWatch, and links kept in
//! the embedded SQLite store and in moto's DynamoDB.
//!
//! One suite a route or concern: `events` (verification, claims, retries, self-detection),
//! `links` (account linking), `commands` (slash commands and buttons), `ack` (an alarm
//! card's Acknowledge button); the helpers they share are here. Nothing waits a fixed time before asserting "nothing more was posted":
//! each waits for the event's store record to settle, or for a later post, first.
#![allow(clippy::unwrap_used)]

mod ack;
mod acting;
mod charts;
mod commands;
mod events;
mod links;

use crate::common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::StateValue;
use common::hosted_ui::HostedUi;
use common::moto::{Fleet, Moto, UserPool};
use common::slack_stub::{Post, SlackStub, block_kit_problem};
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
    /// What the app's actions write through (none: actions are off).
    effector: Option<Arc<dyn opsvoice::act::effect::Effector>>,
}

impl World {
    async fn new(store: impl FnOnce(&Moto) -> StoreLocation) -> Self {
        Self::with_policy(store, POLICY).await
    }

    /// [`World::new`] under the access policy `policy`.
    async fn with_policy(store: impl FnOnce(&Moto) -> StoreLocation, policy_text: &str) -> Self {
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
        policy.write_all(policy_text.as_bytes()).unwrap();
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let slack = SlackStub::start(BOT_TOKEN).await;
        let location = store(&moto);
        let config = Config {
            aws: opsvoice::config::Aws {
                backend: Backend::Aws,
                ..opsvoice::config::Aws::default()
            },
            cognito: opsvoice::config::Cognito {
                user_pool_id: Some(users.pool.clone()),
                client_ids: vec![users.client.clone()],
                region: Some("us-east-1".to_owned()),
                jwks_url: Some(format!(
                    "{}/{}/.well-known/jwks.json",
                    moto.url(),
                    users.pool
                )),
                policy_file: Some(policy.path().to_owned()),
                ..opsvoice::config::Cognito::default()
            },
            slack: opsvoice::config::Slack {
                signing_secret: Some(Secret::new(SECRET)),
                bot_token: Some(Secret::new(BOT_TOKEN)),
                api_url: Some(slack.base.clone()),
            },
            store: opsvoice::config::Store {
                location: Some(location),
                key: Some(Secret::new([42u8; 32].to_vec())),
                ..opsvoice::config::Store::default()
            },
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
            effector: None,
        }
    }

    /// An app process (its own assistant, cache and store connection) on a fresh port,
    /// with its hosted UI stand-in registered for its callback.
    async fn process(&mut self) -> (common::TestApp, Arc<dyn Store>) {
        let p = self.process_with(None).await;
        (p.app, p.store)
    }

    /// [`World::process`], posting notification cards by the routes in `routes` when given
    /// (the app's own notifier, whose cards its Slack app acknowledges), and answering
    /// "what did I miss?" from the event log in its store.
    async fn process_with(&mut self, routes: Option<&std::path::Path>) -> Process {
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
        config.notify.file = routes.map(std::path::Path::to_owned);
        assert!(
            config.slack_problems().is_empty(),
            "{:?}",
            config.slack_problems()
        );
        let clock: Arc<dyn Clock> = self.clock.clone();
        let sdk = self.moto.sdk().await;
        let store: Arc<dyn Store> = match config.store.location.clone().unwrap() {
            StoreLocation::Dynamo(table) => Arc::new(opsvoice::store::dynamo::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                table,
                clock.clone(),
            )),
            StoreLocation::File(path) => {
                Arc::new(opsvoice::store::file::FileStore::open(&path, clock.clone()).unwrap())
            }
        };
        let (source, calls) = opsvoice::live_source(
            aws_sdk_ecs::Client::new(&sdk),
            aws_sdk_cloudwatch::Client::new(&sdk),
            clock.clone(),
            &config,
        );
        let mut builder = opsvoice::builder(&config)
            .clock(clock.clone())
            .ops(Arc::new(source))
            .store(store.clone())
            .lex(None);
        if let Some(effector) = &self.effector {
            builder = builder.effector(effector.clone());
        }
        let assistant = builder.assistant().await.unwrap();
        // Built as `serve` builds it: the Slack app and the notifier from the
        // configuration, on this store.
        let state = opsvoice::builder(&config)
            .clock(clock)
            .with_assistant(assistant)
            .store(store.clone())
            .build()
            .await
            .unwrap();
        assert!(state.slack.is_some());
        let notifier = state.events.notifier.clone();
        assert_eq!(notifier.is_some(), routes.is_some());
        Process {
            app: common::serve_state(listener, state, &config).await,
            store,
            notifier,
            calls,
        }
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

/// An app process and what a test reads of it.
struct Process {
    app: common::TestApp,
    store: Arc<dyn Store>,
    notifier: Option<Arc<opsvoice::notify::Notifier>>,
    /// The AWS calls it made, by API.
    calls: Arc<opsvoice::ops::aws::CallCounts>,
}

fn file_store(dir: &tempfile::TempDir) -> impl FnOnce(&Moto) -> StoreLocation + '_ {
    move |_| StoreLocation::File(dir.path().join("store.db"))
}

/// Waits until Slack event `id` is settled as answered in `store`: its answer was posted
/// and nothing more will be posted for it.
async fn answered(store: &dyn Store, id: &str) {
    let key = opsvoice::store::Key::slack_event(id);
    let deadline = tokio::time::Instant::now() + WAIT;
    while store.get(&key).await.unwrap().as_deref() != Some("answered") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} was never settled as answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `done` holds; fails naming `what` after [`WAIT`].
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An app on the demo fleet (anonymous callers answered) with Slack set up, its Slack
/// stand-in and its store.
struct Demo {
    app: common::TestApp,
    slack: SlackStub,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

async fn demo(dir: &tempfile::TempDir) -> Demo {
    let slack = SlackStub::start(BOT_TOKEN).await;
    let config = Config {
        slack: opsvoice::config::Slack {
            signing_secret: Some(Secret::new(SECRET)),
            bot_token: Some(Secret::new(BOT_TOKEN)),
            api_url: Some(slack.base.clone()),
        },
        store: opsvoice::config::Store {
            location: Some(StoreLocation::File(dir.path().join("s.db"))),
            ..opsvoice::config::Store::default()
        },
        ..Config::default()
    };
    let clock = common::clock();
    let assistant = common::assistant();
    let store: Arc<dyn Store> = Arc::new(
        opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock.clone()).unwrap(),
    );
    let state = opsvoice::builder(&config)
        .clock(clock.clone())
        .with_assistant(assistant)
        .store(store.clone())
        .build()
        .await
        .unwrap();
    assert!(state.slack.is_some());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = common::serve_state(listener, state, &config).await;
    Demo {
        app,
        slack,
        store,
        clock,
    }
}
