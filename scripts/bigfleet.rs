//! The big-fleet kit behind `scripts/bigfleet.sh` (built as the `bigfleet` example).
//!
//! `bigfleet CLUSTERS SERVICES ALARMS DELAY_MS` starts moto on loopback, seeds it with
//! CLUSTERS × SERVICES services and ALARMS metric alarms on each (one alarm firing on every
//! tenth service), puts the fault tests' proxy in front adding DELAY_MS to every AWS call
//! (each HTTP request, not each connection: the SDK keeps connections alive), then asks every
//! intent through the Lex adapter three ways:
//!
//! - **cold**: a new assistant, nothing cached (a Lambda cold start without warming);
//! - **refreshed**: a new assistant after one background refresh (`serve` idle for a while);
//! - **warm**: the same question again on the cold assistant.
//!
//! It prints a Markdown table of answer times and AWS calls, and the words of each cold
//! answer. Times are this machine's; the call counts are not.
#![allow(clippy::unwrap_used)]

#[path = "../tests/it/common/moto.rs"]
mod moto;
#[allow(dead_code)] // the fault tests' other knobs
#[path = "../tests/it/common/proxy.rs"]
mod proxy;

#[path = "bigfleet_accounts.rs"]
mod accounts;
#[path = "bigfleet_shards.rs"]
mod shards;
#[path = "bigfleet_timeline.rs"]
mod timeline;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use opsvoice::channel::Assistant;
use opsvoice::ops::SystemClock;
use opsvoice::ops::aws::CallCounts;
use serde_json::{Value, json};

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .take_while(|a| a != "accounts")
        .map(|a| {
            a.parse()
                .expect("CLUSTERS SERVICES ALARMS DELAY_MS, all numbers")
        })
        .collect();
    if std::env::args().nth(1).as_deref() == Some("accounts") {
        let args: Vec<u64> = std::env::args()
            .skip(2)
            .map(|a| {
                a.parse()
                    .expect("ACCOUNTS REGIONS SERVICES DELAY_MS, all numbers")
            })
            .collect();
        let [accounts, regions, services, delay_ms] = args[..] else {
            eprintln!("usage: bigfleet accounts ACCOUNTS REGIONS SERVICES DELAY_MS");
            std::process::exit(2);
        };
        return accounts::run(accounts, regions, services, delay_ms).await;
    }
    let [clusters, services, alarms, delay_ms] = args[..] else {
        eprintln!("usage: bigfleet CLUSTERS SERVICES ALARMS DELAY_MS");
        std::process::exit(2);
    };
    let moto = moto::Moto::start();
    let started = Instant::now();
    seed(&moto, clusters, services, alarms).await;
    eprintln!(
        "seeded {} services and {} alarms in {:.0?}",
        clusters * services,
        clusters * services * alarms,
        started.elapsed()
    );
    let proxy = proxy::Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    proxy.set(proxy::Fault::PerRequest(Duration::from_millis(delay_ms)));
    let through = moto::sdk_for(&proxy.url).await;

    // A service with a firing alarm, in the middle of the fleet.
    let cluster = clusters / 2;
    let service = format!("big{cluster}-svc{:02}", 7.min(services - 1));
    let questions: Vec<(&str, Value)> = vec![
        (
            "ServiceHealth",
            event("ServiceHealth", &[("service", &service)]),
        ),
        ("FleetSummary", event("FleetSummary", &[])),
        ("ActiveAlarms", event("ActiveAlarms", &[])),
        (
            "AlarmDetail",
            event("AlarmDetail", &[("alarm", &format!("{service}-cpu-0"))]),
        ),
        (
            "DeploymentStatus",
            event("DeploymentStatus", &[("service", &service)]),
        ),
        (
            "MetricQuery",
            event("MetricQuery", &[("service", &service), ("metric", "cpu")]),
        ),
        ("WhatChanged", event("WhatChanged", &[])),
    ];

    println!(
        "{} clusters, {} services, {} alarms, {delay_ms} ms added per AWS call\n",
        clusters,
        clusters * services,
        clusters * services * alarms
    );
    println!(
        "| intent | cold | AWS calls (cold) | refreshed | AWS calls (refreshed) | warm | AWS calls (warm) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    // `BIGFLEET_RUNS=5`: each measure that many times, the median and range shown.
    let runs: usize = std::env::var("BIGFLEET_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut said = Vec::new();
    for (name, question) in &questions {
        let (mut cold_times, mut warm_times, mut refreshed_times) =
            (Vec::new(), Vec::new(), Vec::new());
        let mut first = None;
        for _ in 0..runs {
            let (cold, cold_calls) = live(&through);
            let (took_cold, words, calls_cold) = ask(&cold, &cold_calls, question).await;
            let (took_warm, _, calls_warm) = ask(&cold, &cold_calls, question).await;

            let (refreshed, refreshed_calls) = live(&through);
            if let Err(error) = refreshed.dialog().ops().warm().await {
                eprintln!("{name}: the refresh failed in part: {error}");
            }
            let (took_refreshed, _, calls_refreshed) =
                ask(&refreshed, &refreshed_calls, question).await;
            cold_times.push(took_cold);
            warm_times.push(took_warm);
            refreshed_times.push(took_refreshed);
            first.get_or_insert((words, calls_cold, calls_refreshed, calls_warm));
        }
        let (words, calls_cold, calls_refreshed, calls_warm) = first.unwrap_or_default();
        println!(
            "| {name} | {} | {calls_cold} | {} | {calls_refreshed} | {} | {calls_warm} |",
            accounts::times(&cold_times),
            accounts::times(&refreshed_times),
            accounts::times(&warm_times)
        );
        said.push((name, words));
    }
    println!();
    for (name, words) in said {
        let first = words.lines().next().unwrap_or_default();
        println!("- {name} (cold): {first}");
    }
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn live(sdk: &aws_config::SdkConfig) -> (Arc<Assistant>, Arc<CallCounts>) {
    let live = moto::Live::on(sdk, Arc::new(SystemClock));
    (live.assistant, live.calls)
}

/// The answer's words and time, and the AWS calls it made, as `api n, …` (or `none`).
pub(crate) async fn ask(
    assistant: &Assistant,
    calls: &CallCounts,
    question: &Value,
) -> (Duration, String, String) {
    let before = calls.snapshot();
    let event = serde_json::from_value(question.clone()).unwrap();
    let started = Instant::now();
    let response = serde_json::to_value(assistant.lex(&event).await).unwrap();
    let took = started.elapsed();
    let after = calls.snapshot();
    let made: Vec<String> = after
        .iter()
        .filter_map(|(api, n)| {
            let n = n - before.get(api).copied().unwrap_or(0);
            (n > 0).then(|| format!("{} {n}", api.split(':').nth(1).unwrap_or(api)))
        })
        .collect();
    let words = response["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let made = if made.is_empty() {
        "none".to_owned()
    } else {
        made.join(", ")
    };
    (took, words, made)
}

/// A Lex V2 fulfillment event for `intent` with `slots`, as text.
pub(crate) fn event(intent: &str, slots: &[(&str, &str)]) -> Value {
    let slots: serde_json::Map<String, Value> = slots
        .iter()
        .map(|(name, value)| {
            (
                (*name).to_owned(),
                json!({"shape": "Scalar", "value": {"originalValue": value,
                       "interpretedValue": value, "resolvedValues": [value]}}),
            )
        })
        .collect();
    json!({
        "messageVersion": "1.0", "invocationSource": "FulfillmentCodeHook",
        "inputMode": "Text", "sessionId": "bigfleet", "inputTranscript": intent,
        "bot": {"id": "B", "name": "OpsDesk", "aliasId": "A", "localeId": "en_US", "version": "1"},
        "requestAttributes": {},
        "sessionState": {"sessionAttributes": {}, "intent": {"name": intent,
            "state": "ReadyForFulfillment", "confirmationState": "None", "slots": slots}}
    })
}

/// Seeds the fleet, many calls at a time.
async fn seed(moto: &moto::Moto, clusters: u64, services: u64, alarms: u64) {
    use futures_util::StreamExt as _;
    let seed = moto::Seed::new(&moto.sdk().await).await;
    for c in 0..clusters {
        seed.cluster(&format!("big{c}")).await;
    }
    let all: Vec<(u64, u64)> = (0..clusters)
        .flat_map(|c| (0..services).map(move |s| (c, s)))
        .collect();
    let seed = &seed;
    futures_util::stream::iter(all.iter().copied())
        .for_each_concurrent(16, |(c, s)| async move {
            let cluster = format!("big{c}");
            let service = format!("big{c}-svc{s:02}");
            seed.service(&cluster, &service, 2, None).await;
            for a in 0..alarms {
                let firing = a == 0 && s % 10 == 7;
                seed.service_alarm(
                    &format!("{service}-cpu-{a}"),
                    &cluster,
                    &service,
                    if firing {
                        StateValue::Alarm
                    } else {
                        StateValue::Ok
                    },
                    if firing {
                        "Threshold Crossed: 1 datapoint [93.0] was greater than the threshold (80.0)."
                    } else {
                        "Threshold Crossed: 1 datapoint [20.0] was not greater than the threshold (80.0)."
                    },
                )
                .await;
            }
        })
        .await;
}
