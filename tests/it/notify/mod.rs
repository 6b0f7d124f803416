//! Speaking first, end to end: the AWS documentation's sample events (kept in
//! `tests/fixtures/events/`, sources in `SOURCES.md`) through the Lambda entry and through
//! signed SNS deliveries to `POST /events`, cards out to a loopback Slack Web API stand-in,
//! the episode rules (resolve edits the card, flapping folds into the thread, bursts make
//! one summary, mutes hold), the delivery queue across Slack failures and restarts, two
//! processes on one moto DynamoDB table, alarm cards acknowledged, silences shown, and
//! events from several accounts (cards name them, routes and grants filter by them).
#![allow(clippy::unwrap_used)]

mod accounts;
mod acks;
mod charts;
mod episodes;
mod log;
mod senders;
mod silences;
mod sns;
mod unchanged;

use crate::common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::alexa_pki::{Leaf, Pki};
use common::slack_stub::{Failure, Post, SlackStub, block_kit_problem};
use opsvoice::clock::ManualClock;
use opsvoice::config::{Config, Secret};
use opsvoice::notify::Notifier;
use opsvoice::notify::routes::Routes;
use opsvoice::ops::Clock;
use opsvoice::store::Store;
use serde_json::{Value, json};

pub(super) const BOT_TOKEN: &str = "xoxb-notify";
pub(super) const OPS: &str = "C0OPS00001";
pub(super) const DATA_ONLY: &str = "C0DATA0001";
pub(super) const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:opsvoice-events";

pub(super) const POLICY: &str = r#"
[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]

[groups.data-team]
clusters = ["data"]
services = ["*"]
intents  = ["*"]
"#;

pub(super) const ROUTES: &str = r#"
[[route]]
channel = "C0OPS00001"
group = "oncall"
deployments = true

[[route]]
channel = "C0DATA0001"
group = "data-team"
deployments = true
"#;

pub(super) fn fixture(name: &str) -> Value {
    common::fixture(&format!("events/{name}"))
}

pub(super) fn iso(at: SystemTime) -> String {
    aws_smithy_types::DateTime::from(at)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap()
}

/// The documented alarm event, for `alarm` going to `state` at `at`.
pub(super) fn alarm_event(alarm: &str, state: &str, previous: &str, at: SystemTime) -> Value {
    let mut e = fixture("cloudwatch-alarm-state-change.json");
    e["id"] = json!(uuid::Uuid::new_v4().to_string());
    e["time"] = json!(iso(at));
    e["detail"]["alarmName"] = json!(alarm);
    e["detail"]["state"]["value"] = json!(state);
    e["detail"]["state"]["timestamp"] = json!(iso(at));
    e["detail"]["previousState"]["value"] = json!(previous);
    e
}

/// The demo fleet behind a policy, a notifier over `store`, and its Slack stand-in.
pub(super) struct World {
    pub(super) clock: Arc<ManualClock>,
    pub(super) slack: SlackStub,
    pub(super) assistant: Arc<opsvoice::channel::Assistant>,
    _policy: tempfile::NamedTempFile,
}

impl World {
    pub(super) async fn new() -> Self {
        Self::with_policy(POLICY).await
    }

    /// The demo fleet behind another policy.
    pub(super) async fn with_policy(text: &str) -> Self {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let mut policy = tempfile::NamedTempFile::new().unwrap();
        policy.write_all(text.as_bytes()).unwrap();
        let config = Config {
            cognito: opsvoice::config::Cognito {
                policy_file: Some(policy.path().to_owned()),
                ..opsvoice::config::Cognito::default()
            },
            ..Config::default()
        };
        let assistant = opsvoice::builder(&config)
            .clock(dyn_clock)
            .lex(None)
            .assistant()
            .await
            .unwrap();
        Self {
            clock,
            slack: SlackStub::start(BOT_TOKEN).await,
            assistant,
            _policy: policy,
        }
    }

    pub(super) fn notifier(&self, store: Arc<dyn Store>) -> Notifier {
        self.notifier_with(store, ROUTES)
    }

    /// A notifier over `store` with other routes.
    pub(super) fn notifier_with(&self, store: Arc<dyn Store>, routes: &str) -> Notifier {
        let groups = self.assistant.identity().policy().group_names();
        let routes = Routes::from_toml(routes, groups.as_deref()).unwrap();
        Notifier::new(
            routes,
            store,
            opsvoice::channel::slack::api::WebApi::new(
                Some(&self.slack.base),
                Some(Secret::new(BOT_TOKEN)),
            ),
            self.assistant.clone(),
            self.clock.clone(),
        )
    }

    /// Lets the settle time pass and delivers what is due, as the worker would.
    pub(super) async fn settle(&self, notifier: &Notifier) {
        self.clock
            .advance(opsvoice::notify::SETTLE + Duration::from_millis(10));
        for _ in 0..4 {
            notifier.deliver_due().await;
        }
    }

    pub(super) fn posts_to(&self, channel: &str) -> Vec<Post> {
        self.slack
            .posts()
            .into_iter()
            .filter(|p| p.body["channel"] == channel)
            .collect()
    }
}

pub(super) fn file_store(dir: &tempfile::TempDir, clock: Arc<ManualClock>) -> Arc<dyn Store> {
    Arc::new(opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock).unwrap())
}

pub(super) fn text(post: &Post) -> String {
    post.body["text"].as_str().unwrap_or_default().to_owned()
}

pub(super) fn assert_valid(slack: &SlackStub) {
    assert!(slack.refused().is_empty(), "{:?}", slack.refused());
    for p in slack.posts() {
        assert_eq!(block_kit_problem(&p.body), None, "{:#}", p.body);
    }
}

pub(super) async fn accept(notifier: &Notifier, event: &Value) {
    let event = opsvoice::notify::event::from_eventbridge(event).unwrap();
    notifier.accept("eventbridge", event).await.unwrap();
}
