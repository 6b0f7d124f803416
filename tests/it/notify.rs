//! Speaking first, end to end: the AWS documentation's sample events (kept in
//! `tests/fixtures/events/`, sources in `SOURCES.md`) through the Lambda entry and through
//! signed SNS deliveries to `POST /events`, cards out to a loopback Slack Web API stand-in,
//! the episode rules (resolve edits the card, flapping folds into the thread, bursts make
//! one summary, mutes hold), the delivery queue across Slack failures and restarts, and
//! two processes on one moto DynamoDB table.
#![allow(clippy::unwrap_used)]

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

const BOT_TOKEN: &str = "xoxb-notify";
const OPS: &str = "C0OPS00001";
const DATA_ONLY: &str = "C0DATA0001";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:opsvoice-events";

const POLICY: &str = r#"
[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]

[groups.data-team]
clusters = ["data"]
services = ["*"]
intents  = ["*"]
"#;

const ROUTES: &str = r#"
[[route]]
channel = "C0OPS00001"
group = "oncall"
deployments = true

[[route]]
channel = "C0DATA0001"
group = "data-team"
deployments = true
"#;

fn fixture(name: &str) -> Value {
    common::fixture(&format!("events/{name}"))
}

fn iso(at: SystemTime) -> String {
    aws_smithy_types::DateTime::from(at)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap()
}

/// The documented alarm event, for `alarm` going to `state` at `at`.
fn alarm_event(alarm: &str, state: &str, previous: &str, at: SystemTime) -> Value {
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
struct World {
    clock: Arc<ManualClock>,
    slack: SlackStub,
    assistant: Arc<opsvoice::channel::Assistant>,
    _policy: tempfile::NamedTempFile,
}

impl World {
    async fn new() -> Self {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let mut policy = tempfile::NamedTempFile::new().unwrap();
        policy.write_all(POLICY.as_bytes()).unwrap();
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

    fn notifier(&self, store: Arc<dyn Store>) -> Notifier {
        let groups = self.assistant.identity().policy().group_names();
        let routes = Routes::from_toml(ROUTES, groups.as_deref()).unwrap();
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
    async fn settle(&self, notifier: &Notifier) {
        self.clock
            .advance(opsvoice::notify::SETTLE + Duration::from_millis(10));
        for _ in 0..4 {
            notifier.deliver_due().await;
        }
    }

    fn posts_to(&self, channel: &str) -> Vec<Post> {
        self.slack
            .posts()
            .into_iter()
            .filter(|p| p.body["channel"] == channel)
            .collect()
    }
}

fn file_store(dir: &tempfile::TempDir, clock: Arc<ManualClock>) -> Arc<dyn Store> {
    Arc::new(opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock).unwrap())
}

fn text(post: &Post) -> String {
    post.body["text"].as_str().unwrap_or_default().to_owned()
}

fn assert_valid(slack: &SlackStub) {
    assert!(slack.refused().is_empty(), "{:?}", slack.refused());
    for p in slack.posts() {
        assert_eq!(block_kit_problem(&p.body), None, "{:#}", p.body);
    }
}

async fn accept(notifier: &Notifier, event: &Value) {
    let event = opsvoice::notify::event::from_eventbridge(event).unwrap();
    notifier.accept("eventbridge", event).await.unwrap();
}

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
            &opsvoice::notify::mute_key(OPS, "prod/checkout"),
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

/// A loopback stand-in for SNS's certificate host.
async fn cert_server(pem: String) -> (String, tokio::sync::oneshot::Sender<()>) {
    let router = axum::Router::new().route(
        "/{file}",
        axum::routing::get(move || {
            let pem = pem.clone();
            async move { pem }
        }),
    );
    let (addr, stop) = common::serve_on_loopback(router).await;
    (format!("http://{addr}/"), stop)
}

fn sns_signed(pki: &Pki, mut delivery: Value, version: &str) -> Vec<u8> {
    delivery["SignatureVersion"] = json!(version);
    if delivery.get("Stale").is_some() {
        delivery.as_object_mut().unwrap().remove("Stale");
        delivery["Timestamp"] = json!(iso(SystemTime::now() - Duration::from_secs(2 * 24 * 3600)));
    } else {
        delivery["Timestamp"] = json!(iso(SystemTime::now()));
    }
    delivery["SigningCertURL"] =
        json!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem");
    let d: opsvoice::notify::sns::Delivery = serde_json::from_value(delivery.clone()).unwrap();
    let signed = opsvoice::notify::sns::string_to_sign(&d).unwrap();
    let der = pki.leaf_key.serialize_der();
    let signature = if version == "1" {
        use rsa::pkcs8::DecodePrivateKey as _;
        use rsa::signature::{SignatureEncoding as _, Signer as _};
        let key = rsa::RsaPrivateKey::from_pkcs8_der(&der).unwrap();
        rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key)
            .sign(signed.as_bytes())
            .to_vec()
    } else {
        let key = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
        let mut signature = vec![0u8; key.public_modulus_len()];
        key.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut signature,
        )
        .unwrap();
        signature
    };
    use base64::Engine as _;
    delivery["Signature"] = json!(base64::engine::general_purpose::STANDARD.encode(signature));
    serde_json::to_vec(&delivery).unwrap()
}

#[tokio::test]
async fn signed_sns_deliveries_post_cards_and_forged_ones_post_nothing() {
    let w = World::new().await;
    let moto = common::moto::Moto::start();
    let sdk = moto.sdk().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name("opsvoice-events")
        .send()
        .await
        .unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_owned();
    assert_eq!(topic_arn, TOPIC);
    let pki = Pki::new(Leaf::Good);
    let stranger = Pki::new(Leaf::Good);
    let (cert_base, _stop) = cert_server(pki.chain_pem.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut notifier = w.notifier(file_store(&dir, w.clock.clone()));
    notifier.inline = false;
    let notifier = Arc::new(notifier);
    let verifier = opsvoice::notify::sns::SnsVerifier::new(
        vec![TOPIC.to_owned()],
        Some(("test root", pki.root_pem.as_bytes())),
        Some(&cert_base),
        w.clock.clone(),
    )
    .unwrap();
    let state = opsvoice::server::AppState {
        assistant: w.assistant.clone(),
        metrics: opsvoice::telemetry::metrics(),
        alexa: Arc::new(
            opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, w.clock.clone())
                .unwrap(),
        ),
        slack: None,
        events: opsvoice::notify::http::EventsState {
            verifier: Some(Arc::new(verifier)),
            notifier: Some(notifier.clone()),
            sns: Some(sns.clone()),
        },
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = common::serve_state(listener, state, &Config::default()).await;
    let post = |body: Vec<u8>, kind: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/events", app.base);
        async move {
            let r = client
                .post(url)
                .header("x-amz-sns-message-type", kind)
                .header("content-type", "text/plain; charset=UTF-8")
                .body(body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };

    // A confirmation, signed: confirmed through the SNS API (moto), never by fetching.
    let sub = sns
        .subscribe()
        .topic_arn(TOPIC)
        .protocol("https")
        .endpoint("https://opsvoice.example.com/events")
        .send()
        .await
        .unwrap();
    assert!(sub.subscription_arn().is_some());
    let mut confirm = fixture("sns-subscription-confirmation-envelope.json");
    confirm["TopicArn"] = json!(TOPIC);
    confirm["SubscribeURL"] = json!("https://169.254.169.254/latest/meta-data/");
    assert_eq!(
        post(
            sns_signed(&pki, confirm.clone(), "2"),
            "SubscriptionConfirmation"
        )
        .await,
        200
    );

    // A notification carrying the documented EventBridge alarm event, SignatureVersion 1.
    let mut note = fixture("sns-notification-envelope.json");
    note["TopicArn"] = json!(TOPIC);
    note["MessageId"] = json!(uuid::Uuid::new_v4().to_string());
    let event = alarm_event("checkout-p99-latency-high", "ALARM", "OK", w.clock.now());
    note["Message"] = json!(event.to_string());
    assert_eq!(
        post(sns_signed(&pki, note.clone(), "1"), "Notification").await,
        200
    );
    // CloudWatch's own alarm JSON in Message, SignatureVersion 2.
    let mut cw = fixture("cloudwatch-alarm-sns-message.json");
    cw["AlarmName"] = json!("ml-scoring-cpu-high");
    cw["NewStateValue"] = json!("ALARM");
    let mut note2 = note.clone();
    note2["MessageId"] = json!(uuid::Uuid::new_v4().to_string());
    note2["Message"] = json!(cw.to_string());
    assert_eq!(
        post(sns_signed(&pki, note2, "2"), "Notification").await,
        200
    );

    // Forged: another key's signature, an edited message, no signature, another topic,
    // a certificate URL off SNS's hosts.
    let mut forged = note.clone();
    forged["MessageId"] = json!("forged-1");
    forged["Message"] =
        json!(alarm_event("forged-alarm", "ALARM", "OK", w.clock.now()).to_string());
    let mut refusals = vec![post(sns_signed(&stranger, forged.clone(), "2"), "Notification").await];
    let mut edited: Value = serde_json::from_slice(&sns_signed(&pki, forged.clone(), "2")).unwrap();
    edited["Message"] =
        json!(alarm_event("forged-alarm-2", "ALARM", "OK", w.clock.now()).to_string());
    refusals.push(post(serde_json::to_vec(&edited).unwrap(), "Notification").await);
    let mut unsigned: Value =
        serde_json::from_slice(&sns_signed(&pki, forged.clone(), "2")).unwrap();
    unsigned["Signature"] = json!("");
    refusals.push(post(serde_json::to_vec(&unsigned).unwrap(), "Notification").await);
    let mut other_topic = forged.clone();
    other_topic["TopicArn"] = json!("arn:aws:sns:us-east-1:123456789012:someone-else");
    refusals.push(post(sns_signed(&pki, other_topic, "2"), "Notification").await);
    let mut stale = forged.clone();
    stale["Stale"] = json!(true);
    refusals.push(post(sns_signed(&pki, stale, "2"), "Notification").await);
    let mut off_host: Value = serde_json::from_slice(&sns_signed(&pki, forged, "2")).unwrap();
    off_host["SigningCertURL"] = json!("https://evil.example.com/sns.us-east-1.amazonaws.com.pem");
    refusals.push(post(serde_json::to_vec(&off_host).unwrap(), "Notification").await);
    // 401 for a signature or certificate that does not verify, 403 for another topic,
    // 400 for a stale Timestamp.
    assert!(
        refusals.iter().all(|s| [400, 401, 403].contains(s)),
        "{refusals:?}"
    );
    assert_eq!(refusals.len(), 6);

    // A certificate that does not chain to a trusted root: a stranger's whole PKI, served
    // where the certificate is fetched from, with the message signed by its own key.
    let (stranger_base, _stop_stranger) = cert_server(stranger.chain_pem.clone()).await;
    let untrusting = opsvoice::notify::sns::SnsVerifier::new(
        vec![TOPIC.to_owned()],
        Some(("test root", pki.root_pem.as_bytes())),
        Some(&stranger_base),
        w.clock.clone(),
    )
    .unwrap();
    let mut wrong_cert = note.clone();
    wrong_cert["MessageId"] = json!("wrong-cert-1");
    assert_eq!(
        untrusting
            .verify(&sns_signed(&stranger, wrong_cert, "2"))
            .await
            .err(),
        Some(opsvoice::notify::sns::SnsError::UntrustedCert)
    );

    w.settle(&notifier).await;
    let ops = w.posts_to(OPS);
    let tops: Vec<String> = ops
        .iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .map(text)
        .collect();
    assert_eq!(tops.len(), 2, "{tops:?}");
    assert!(
        tops.iter().any(|t| t.contains("checkout-p99-latency-high")),
        "{tops:?}"
    );
    assert!(
        tops.iter().any(|t| t.contains("ml-scoring-cpu-high")),
        "{tops:?}"
    );
    assert!(!w.slack.posts().iter().any(|p| text(p).contains("forged")));
    assert_valid(&w.slack);
}

#[tokio::test]
async fn two_processes_on_one_dynamodb_table_post_each_episode_once() {
    let w = World::new().await;
    let moto = common::moto::Moto::start();
    let sdk = moto.sdk().await;
    common::moto::store_table(&sdk, "shared").await;
    let store = || -> Arc<dyn Store> {
        Arc::new(opsvoice::store::dynamo::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            "shared".to_owned(),
            w.clock.clone(),
        ))
    };
    let a = w.notifier(store());
    let b = w.notifier(store());
    // The same alarm's state change reaches both (two events: EventBridge to Lambda, and
    // the alarm's SNS action to `serve`), and both deliver.
    let at = w.clock.now();
    let one = alarm_event("ml-scoring-cpu-high", "ALARM", "OK", at);
    let two = alarm_event("ml-scoring-cpu-high", "ALARM", "OK", at);
    let (x, y) = tokio::join!(accept(&a, &one), accept(&b, &two));
    let ((), ()) = (x, y);
    w.clock
        .advance(opsvoice::notify::SETTLE + Duration::from_millis(10));
    for _ in 0..3 {
        tokio::join!(a.deliver_due(), b.deliver_due());
    }
    let cards: Vec<Post> = w
        .posts_to(OPS)
        .into_iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .collect();
    assert_eq!(cards.len(), 1, "{:?}", w.slack.posts());
    assert_eq!(
        w.posts_to(DATA_ONLY)
            .iter()
            .filter(|p| p.body["thread_ts"].is_null())
            .count(),
        1
    );
    assert_valid(&w.slack);
}

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
    let state = opsvoice::server::AppState {
        assistant: w.assistant.clone(),
        metrics: opsvoice::telemetry::metrics(),
        alexa: Arc::new(
            opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, w.clock.clone())
                .unwrap(),
        ),
        slack: None,
        events: opsvoice::notify::http::EventsState {
            verifier: None,
            notifier: Some(notifier.clone()),
            sns: None,
        },
    };
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
