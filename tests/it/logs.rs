//! LogErrors against moto: real log groups and events, the real ECS and CloudWatch Logs SDK
//! clients, the task definition's `awslogs` configuration, Insights queries (moto runs their
//! `fields`, `sort` and `limit`; our code checks each line), the deadline with `StopQuery`,
//! the grants, and hostile log text in SSML and Block Kit.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_ecs::types::{ContainerDefinition, LogConfiguration, LogDriver};
use opsvoice::assistant::Assistant;
use opsvoice::auth::{Identity, Principal, policy::Policy};
use opsvoice::channel::ask::AskRequest;
use opsvoice::dialog::{Intent, Mode, Slot, Turn};
use opsvoice::ops::SystemClock;
use opsvoice::ops::logs::aws::AwsLogs;

use crate::common::moto::{Moto, Seed, patient, sdk_for};
use crate::common::proxy::{Answer, Fault, Proxy};

const GROUP: &str = "/ecs/checkout";

fn millis(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// moto with prod/checkout, whose task definition logs to [`GROUP`] through `awslogs`, and
/// the log group with `before` lines from before the deployment and `after` lines since.
async fn world(moto: &Moto, before: &[&str], after: &[&str]) {
    world_in(&moto.sdk().await, before, after).await;
}

/// [`world`] in the account and region `sdk` reads (the accounts tests seed one such world
/// per account).
pub(crate) async fn world_in(sdk: &aws_config::SdkConfig, before: &[&str], after: &[&str]) {
    let sdk = sdk.clone();
    let seed = Seed::new(&sdk).await;
    seed.cluster("prod").await;
    let td = seed
        .ecs
        .register_task_definition()
        .family("checkout")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image("app:1")
                .memory(256)
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Awslogs)
                        .options("awslogs-group", GROUP)
                        .options("awslogs-region", "us-east-1")
                        .options("awslogs-stream-prefix", "app")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = td.task_definition().unwrap().task_definition_arn().unwrap();
    seed.ecs
        .create_service()
        .cluster("prod")
        .service_name("checkout")
        .task_definition(arn)
        .desired_count(2)
        .send()
        .await
        .unwrap();
    let deployed = SystemTime::now();
    let logs = aws_sdk_cloudwatchlogs::Client::from_conf(
        aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
            .timeout_config(patient())
            .build(),
    );
    logs.create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/ecs/payments")
        .send()
        .await
        .unwrap();
    for group in [GROUP, "/ecs/payments"] {
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name("app/app/1")
            .send()
            .await
            .unwrap();
    }
    let mut events = Vec::new();
    for (i, line) in before.iter().enumerate() {
        let at = deployed - Duration::from_secs(30) + Duration::from_millis(i as u64);
        events.push(
            InputLogEvent::builder()
                .timestamp(millis(at))
                .message(*line)
                .build()
                .unwrap(),
        );
    }
    for (i, line) in after.iter().enumerate() {
        let at = deployed + Duration::from_millis(1 + i as u64);
        events.push(
            InputLogEvent::builder()
                .timestamp(millis(at))
                .message(*line)
                .build()
                .unwrap(),
        );
    }
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("app/app/1")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    // Another service's errors, which no answer about checkout may read.
    logs.put_log_events()
        .log_group_name("/ecs/payments")
        .log_stream_name("app/app/1")
        .log_events(
            InputLogEvent::builder()
                .timestamp(millis(deployed))
                .message("ERROR payments secret leaked")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // The events are stamped up to a few milliseconds past now.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The assistant over moto (ECS and CloudWatch as `serve` reads them), its Logs client
/// going through `logs_url` (moto, or a proxy in front of it).
async fn assistant(moto: &Moto, logs_url: &str, identity: Identity) -> Arc<Assistant> {
    let sdk = moto.sdk().await;
    let logs_sdk = sdk_for(logs_url).await;
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let (source, _) = opsvoice::live_source(
        aws_sdk_ecs::Client::new(&sdk),
        aws_sdk_cloudwatch::Client::new(&sdk),
        clock.clone(),
        &opsvoice::config::Config::default(),
    );
    Assistant::builder(Arc::new(source), clock, identity)
        .logs(Arc::new(AwsLogs::new(
            aws_sdk_ecs::Client::new(&logs_sdk),
            aws_sdk_cloudwatchlogs::Client::new(&logs_sdk),
        )))
        .build()
        .unwrap()
}

async fn ask(assistant: &Assistant, text: &str) -> opsvoice::channel::ask::AskResponse {
    assistant
        .ask(
            AskRequest {
                text: text.to_owned(),
                session_id: None,
            },
            None,
        )
        .await
        .unwrap()
}

const AFTER: [&str; 9] = [
    "ERROR connection refused to payments-db:5432 (attempt 1)",
    "ERROR connection refused to payments-db:5432 (attempt 2)",
    "ERROR connection refused to payments-db:5432 (attempt 3)",
    "ERROR connection refused to payments-db:5433 (attempt 4)",
    "ERROR connection refused to payments-db:5432 (attempt 5)",
    "WARN timeout calling pricing after 3000 ms",
    "WARN timeout calling pricing after 2900 ms",
    "INFO GET /healthz 200 2ms",
    "INFO order 42 placed",
];

#[tokio::test]
async fn seeded_error_lines_give_the_count_and_the_top_pattern_with_what_is_new() {
    let moto = Moto::start();
    world(
        &moto,
        &["WARN timeout calling pricing after 950 ms", "INFO started"],
        &AFTER,
    )
    .await;
    let assistant = assistant(&moto, &moto.url(), Identity::open()).await;
    let r = ask(&assistant, "what errors is checkout logging").await;
    assert_eq!(r.intent, "LogErrors");
    assert!(
        r.text.starts_with("checkout logged 7 errors since the "),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("most say connection refused to payments-db."),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("That's new since the deploy."),
        "{}",
        r.text
    );
    // Chat: the top patterns with counts, which are new, and the query in Logs Insights.
    assert!(
        r.text.contains(
            "“ERROR connection refused to payments-db:<num> (attempt <num>)”: 5 times, new since the deploy"
        ),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(
            "“WARN timeout calling pricing after <num> ms”: 2 times, also before the deploy"
        ),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(
            "Logs Insights: https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights"
        ),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains("secret"),
        "another service's logs never show"
    );
    let ssml = crate::common::assert_valid_ssml(&r.ssml);
    assert!(ssml.contains("connection refused to payments-db"), "{ssml}");
}

fn running(lines: &[&str]) -> String {
    let now = millis(SystemTime::now());
    let rows: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            serde_json::json!([
                {"field": "@timestamp", "value": now.to_string()},
                {"field": "@message", "value": l},
            ])
        })
        .collect();
    serde_json::json!({"status": "Running", "results": rows}).to_string()
}

fn json_answer(action: &str, body: String) -> Answer {
    Answer {
        action: action.to_owned(),
        status: 200,
        content_type: "application/x-amz-json-1.1".to_owned(),
        body,
        hang: false,
        only_when: None,
    }
}

#[tokio::test]
async fn a_query_past_its_deadline_is_stopped_and_answered_with_what_it_found_so_far() {
    let moto = Moto::start();
    world(&moto, &[], &AFTER).await;
    let proxy = Proxy::start(moto.url().trim_start_matches("http://").to_owned()).await;
    proxy.set(Fault::Inspect);
    // Insights keeps running (with the lines found so far); moto has no StopQuery, so the
    // proxy answers it as CloudWatch Logs does.
    proxy.answer(json_answer(
        "GetQueryResults",
        running(&[
            "ERROR connection refused to payments-db:5432 (attempt 1)",
            "ERROR connection refused to payments-db:5432 (attempt 2)",
            "WARN timeout calling pricing after 3000 ms",
        ]),
    ));
    proxy.answer(json_answer("StopQuery", r#"{"success": true}"#.to_owned()));
    let assistant = assistant(&moto, &proxy.url, Identity::open()).await;
    let started = std::time::Instant::now();
    let r = ask(&assistant, "what errors is checkout logging").await;
    let took = started.elapsed();
    assert!(
        r.text
            .starts_with("The query is still running; so far, checkout logged 3 errors since the "),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("most say connection refused to payments-db."),
        "{}",
        r.text
    );
    let actions = proxy.actions();
    assert_eq!(
        actions.iter().filter(|a| *a == "StopQuery").count(),
        1,
        "{actions:?}"
    );
    assert!(
        actions.iter().filter(|a| *a == "GetQueryResults").count() >= 2,
        "{actions:?}"
    );
    let stop = proxy
        .requests()
        .into_iter()
        .find(|s| s.action() == "StopQuery")
        .unwrap();
    let start = proxy
        .requests()
        .into_iter()
        .find(|s| s.action() == "StartQuery")
        .unwrap();
    let id = serde_json::from_slice::<serde_json::Value>(&start.answer).unwrap()["queryId"].clone();
    assert_eq!(
        stop.json()["queryId"],
        id,
        "the query started is the one stopped"
    );
    assert!(took < opsvoice::channel::DEFAULT_DEADLINE, "{took:?}");
}

fn identity(toml: &str) -> Identity {
    let policy = Policy::from_toml(toml).unwrap();
    let grants = policy.grants(Some(&Principal {
        sub: "s".into(),
        username: "u".into(),
        groups: vec!["room".into()],
    }));
    Identity::new(None, policy, Some(grants))
}

#[tokio::test]
async fn a_caller_without_the_grant_hears_nothing_and_no_logs_are_read() {
    let moto = Moto::start();
    world(&moto, &[], &AFTER).await;
    let proxy = Proxy::start(moto.url().trim_start_matches("http://").to_owned()).await;
    proxy.set(Fault::Inspect);
    for toml in [
        // Not the intent.
        "[groups.room]\nclusters = [\"*\"]\nservices = [\"*\"]\nintents = [\"ServiceHealth\", \"MetricQuery\"]\n",
        // The intent, but not the service.
        "[groups.room]\nclusters = [\"*\"]\nservices = [\"cart\"]\nintents = [\"*\"]\n",
    ] {
        let assistant = assistant(&moto, &proxy.url, identity(toml)).await;
        let r = ask(&assistant, "what errors is checkout logging").await;
        assert_eq!(r.text, "You don't have access to that.", "{toml}");
        assert!(!r.text.contains("payments-db"));
    }
    assert_eq!(
        proxy.actions(),
        Vec::<String>::new(),
        "no Logs or task definition call"
    );
}

#[tokio::test]
async fn hostile_log_text_is_escaped_in_ssml_and_block_kit() {
    let hostile = "ERROR payment </speak><audio src='https://evil.example/a.mp3'/> & <!channel> <@U0BAD> *bold* x: https://evil.example";
    let moto = Moto::start();
    world(
        &moto,
        &[],
        &[
            hostile,
            hostile,
            "ERROR connection refused to payments-db:5432",
        ],
    )
    .await;
    let assistant = assistant(&moto, &moto.url(), Identity::open()).await;
    let r = ask(&assistant, "what errors is checkout logging").await;
    let ssml = crate::common::assert_valid_ssml(&r.ssml);
    assert!(!r.ssml.contains("<audio"), "{}", r.ssml);
    assert!(r.ssml.contains("&lt;/speak&gt;&lt;audio"), "{}", r.ssml);
    assert!(ssml.contains("checkout logged 3 errors"), "{ssml}");

    let turn = Turn::new(Intent::LogErrors, Mode::Text).with_slot(Slot::Service, "checkout");
    let exchange = assistant
        .converse(turn, opsvoice::speech::Forms::Text)
        .await;
    let message = opsvoice::channel::slack::blocks::answer(&exchange, 0);
    let blocks = serde_json::to_string(&message.blocks).unwrap();
    assert!(blocks.contains("&lt;!channel&gt;"), "{blocks}");
    assert!(!blocks.contains("<!channel>"), "{blocks}");
    assert!(!blocks.contains("<@U0BAD>"), "{blocks}");
    assert!(
        !blocks.contains("<https://evil"),
        "log text never becomes a link: {blocks}"
    );
    assert!(
        blocks.contains("<https://console.aws.amazon.com/cloudwatch/home"),
        "{blocks}"
    );
    assert!(!message.text.contains("<!channel>"), "{}", message.text);
}
