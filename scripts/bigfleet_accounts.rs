//! `bigfleet accounts ACCOUNTS REGIONS SERVICES DELAY_MS`: the accounts mode of
//! `scripts/bigfleet.sh` (issue 32). moto keeps a state per account: each account's
//! services are seeded with credentials from AssumeRole into its role, in each region
//! (one cluster, `main`, everywhere; SERVICES services in each; two CPU alarms a service,
//! one firing on every tenth). The assistant reads every (account, region) through the
//! accounts source, each account's role assumed by the SDK's provider, through the
//! per-request delay proxy; every intent is asked cold, refreshed and warm, with the AWS
//! calls each made (AssumeRole included).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use opsvoice::channel::Assistant;
use opsvoice::ops::SystemClock;
use opsvoice::ops::aws::CallCounts;
use serde_json::Value;

use super::{ask, event, moto, ms, proxy, timeline};

fn account_id(a: u64) -> String {
    format!("{:012}", 100_000_000_000 + a)
}

const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "eu-central-1", "us-west-2"];

fn accounts_file(accounts: u64, regions: u64) -> String {
    let regions: Vec<String> = REGIONS
        .iter()
        .take(regions as usize)
        .map(|r| format!("\"{r}\""))
        .collect();
    (0..accounts)
        .map(|a| {
            format!(
                "[[account]]\nname = \"team {a}\"\nrole = \"arn:aws:iam::{}:role/opsvoice-read\"\nregions = [{}]\n",
                account_id(a),
                regions.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn as_account(sdk: &aws_config::SdkConfig, a: u64, region: &str) -> aws_config::SdkConfig {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(sdk)
            .timeout_config(moto::patient())
            .build(),
    );
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{}:role/opsvoice-read", account_id(a)))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    sdk.to_builder()
        .region(aws_sdk_ecs::config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
            aws_sdk_ecs::config::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "seed",
            ),
        ))
        .build()
}

/// Service `s` of member (`a`, `r`): named once in the whole fleet.
fn service_name(a: u64, r: u64, s: u64) -> String {
    format!("t{a}r{r}-svc{s:02}")
}

async fn seed(moto: &moto::Moto, accounts: u64, regions: u64, services: u64) {
    use futures_util::StreamExt as _;
    let sdk = moto.sdk().await;
    let members: Vec<(u64, u64)> = (0..accounts)
        .flat_map(|a| (0..regions).map(move |r| (a, r)))
        .collect();
    let sdk = &sdk;
    futures_util::stream::iter(members)
        .for_each_concurrent(4, |(a, r)| async move {
            let seed = moto::Seed::new(&as_account(sdk, a, REGIONS[r as usize]).await).await;
            seed.cluster("main").await;
            let seed = &seed;
            futures_util::stream::iter(0..services)
                .for_each_concurrent(8, |s| async move {
                    let service = service_name(a, r, s);
                    seed.service("main", &service, 2, None).await;
                    for k in 0..2 {
                        let firing = k == 0 && s % 10 == 7;
                        seed.service_alarm(
                            &format!("{service}-cpu-{k}"),
                            "main",
                            &service,
                            if firing { StateValue::Alarm } else { StateValue::Ok },
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
        })
        .await;
}

async fn live(
    through: &aws_config::SdkConfig,
    accounts: &[opsvoice::config::accounts::Account],
) -> (Arc<Assistant>, Arc<CallCounts>) {
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let mut config = opsvoice::config::Config::default();
    // `BIGFLEET_ANSWERS=16`: another bound on the members all answers ask at once.
    if let Some(n) = std::env::var("BIGFLEET_ANSWERS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        config.accounts.answer_concurrency = n;
    }
    // `BIGFLEET_DEADLINE_MS=10000`: a longer answer deadline, to see how long an answer
    // takes with every account in it (the fan-out has 60% of it).
    let deadline = std::env::var("BIGFLEET_DEADLINE_MS")
        .ok()
        .and_then(|n| n.parse().ok())
        .map(Duration::from_millis);
    if let Some(deadline) = deadline {
        config.server.answer_deadline = deadline;
    }
    let read = opsvoice::accounts_source(through, accounts, clock.clone(), &config).await;
    let (source, calls) = (read.ops, read.calls);
    let assistant = Assistant::builder(Arc::new(source), clock, opsvoice::auth::Identity::open())
        .deadline(config.server.answer_deadline)
        .build()
        .unwrap();
    (assistant, calls)
}

pub async fn run(accounts: u64, regions: u64, services: u64, delay_ms: u64) {
    let timeline = timeline::install();
    // `BIGFLEET_ONLY=ServiceHealth,FleetSummary`: only these intents.
    let only = std::env::var("BIGFLEET_ONLY").ok();
    let moto = moto::Moto::start();
    let started = Instant::now();
    seed(&moto, accounts, regions, services).await;
    let total = accounts * regions * services;
    eprintln!("seeded {total} services in {:.0?}", started.elapsed());
    if std::env::var_os("BIGFLEET_MOTO").is_some() {
        probe_moto(&moto, services).await;
    }
    let proxy = proxy::Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    proxy.set(proxy::Fault::PerRequest(Duration::from_millis(delay_ms)));
    let through = moto::sdk_for(&proxy.url).await;
    let listed =
        opsvoice::config::accounts::parse(&accounts_file(accounts, regions), "us-east-1").unwrap();

    // A service with a firing alarm, named once, in the middle of the fleet.
    let service = service_name(accounts / 2, regions - 1, 7.min(services - 1));
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
        "{accounts} accounts x {regions} regions, {total} services, {} alarms, {delay_ms} ms added per AWS call\n",
        total * 2
    );
    println!(
        "| intent | cold | AWS calls (cold) | refreshed | AWS calls (refreshed) | warm | AWS calls (warm) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut said = Vec::new();
    for (name, question) in &questions {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == *name))
        {
            continue;
        }
        // moto (one process) is still working through what an answer that ran out of
        // time left in flight: each answer is timed on an idle moto.
        settle().await;
        let (cold, cold_calls) = live(&through, &listed).await;
        timeline::clear();
        let asked = Instant::now();
        let (took_cold, words, calls_cold) = ask(&cold, &cold_calls, question).await;
        if timeline {
            eprintln!("{name}, cold: {}", ms(took_cold));
            timeline::report(asked, took_cold);
        }
        if std::env::var_os("BIGFLEET_COLD").is_some() {
            // `BIGFLEET_COLD=1`: the cold answers only.
            println!("| {name} | {} | {calls_cold} | | | | |", ms(took_cold));
            said.push((name, words));
            continue;
        }
        let (took_warm, _, calls_warm) = ask(&cold, &cold_calls, question).await;

        let (refreshed, refreshed_calls) = live(&through, &listed).await;
        let _ = refreshed.dialog().ops().warm().await;
        settle().await;
        let (took_refreshed, _, calls_refreshed) =
            ask(&refreshed, &refreshed_calls, question).await;
        println!(
            "| {name} | {} | {calls_cold} | {} | {calls_refreshed} | {} | {calls_warm} |",
            ms(took_cold),
            ms(took_refreshed),
            ms(took_warm)
        );
        said.push((name, words));
    }
    println!();
    for (name, words) in said {
        let first = words.lines().next().unwrap_or_default();
        println!("- {name} (cold): {first}");
    }
}

/// `BIGFLEET_MOTO=1`: moto alone, no proxy, no delay: each API the cold answers use, 20
/// times one after another (moto's own time per call, with the SDK's), then 200
/// DescribeServices calls (10 services each) 1, 8 and 32 at a time (moto's throughput).
async fn probe_moto(moto: &moto::Moto, services: u64) {
    use futures_util::StreamExt as _;
    let sdk = moto.sdk().await;
    let member = as_account(&sdk, 0, REGIONS[0]).await;
    let ecs = aws_sdk_ecs::Client::new(&member);
    let cw = aws_sdk_cloudwatch::Client::new(&member);
    let sts = aws_sdk_sts::Client::new(&sdk);
    let ten: Vec<String> = (0..10.min(services))
        .map(|s| service_name(0, 0, s))
        .collect();
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let mut line = Vec::new();
    macro_rules! serially {
        ($name:expr, $call:expr) => {{
            let mut times = Vec::new();
            for _ in 0..20 {
                let started = Instant::now();
                $call.send().await.unwrap();
                times.push(started.elapsed());
            }
            line.push(format!(
                "{} {:.1} ms",
                $name,
                median(times).as_secs_f64() * 1000.0
            ));
        }};
    }
    serially!(
        "AssumeRole",
        sts.assume_role()
            .role_arn(format!("arn:aws:iam::{}:role/opsvoice-read", account_id(1)))
            .role_session_name("probe")
    );
    serially!("ListClusters", ecs.list_clusters());
    serially!(
        "ListServices",
        ecs.list_services().cluster("main").max_results(100)
    );
    serially!(
        "DescribeServices (10)",
        ecs.describe_services()
            .cluster("main")
            .set_services(Some(ten.clone()))
    );
    serially!(
        "DescribeAlarms (ALARM)",
        cw.describe_alarms().state_value(StateValue::Alarm)
    );
    eprintln!(
        "moto alone, median of 20 one at a time: {}",
        line.join(", ")
    );
    for at_once in [1, 8, 32] {
        let started = Instant::now();
        futures_util::stream::iter(0..200)
            .for_each_concurrent(at_once, |_| {
                let (ecs, ten) = (&ecs, &ten);
                async move {
                    ecs.describe_services()
                        .cluster("main")
                        .set_services(Some(ten.clone()))
                        .send()
                        .await
                        .unwrap();
                }
            })
            .await;
        let took = started.elapsed();
        eprintln!(
            "moto alone, 200 DescribeServices {at_once} at a time: {} ({:.1} ms a call)",
            ms(took),
            took.as_secs_f64() * 1000.0 / 200.0
        );
    }
}

/// Lets moto finish the requests an answer gave up on (they keep moto busy after the
/// answer is given), so the next answer is not timed against them.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(3)).await;
}
