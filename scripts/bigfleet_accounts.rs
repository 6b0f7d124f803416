//! `bigfleet accounts ACCOUNTS REGIONS SERVICES DELAY_MS`: the accounts mode of
//! `scripts/bigfleet.sh` (issue 32). moto keeps a state per account: each account's
//! services are seeded with credentials from AssumeRole into its role, in each region
//! (one cluster, `main`, everywhere; SERVICES services in each; two CPU alarms a service,
//! one firing on every tenth). The assistant reads every (account, region) through the
//! accounts source, each account's role assumed by the SDK's provider, with DELAY_MS added
//! to every call; every intent is asked cold, refreshed and warm, with the AWS calls each
//! made (AssumeRole included).
//!
//! By default each account has a moto server of its own, as AWS serves accounts
//! independently ([`super::shards`]: a router sends each request to its account's moto,
//! after the delay). `BIGFLEET_SHARDS=1` is one moto for every account behind the
//! per-request delay proxy (the measure before the shards: one Python process serving the
//! whole fleet's calls one at a time).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use opsvoice::channel::Assistant;
use opsvoice::ops::SystemClock;
use opsvoice::ops::aws::CallCounts;
use serde_json::Value;

use super::{ask, event, moto, ms, proxy, shards, timeline};

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

async fn seed(url: &str, accounts: u64, regions: u64, services: u64) {
    use futures_util::StreamExt as _;
    let sdk = moto::sdk_for(url).await;
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

/// The moto the fleet is seeded in and read from, and what adds the delay.
enum World {
    /// One moto for every account, behind the per-request delay proxy.
    One(moto::Moto, proxy::Proxy),
    /// A moto per account and the home one, behind the routing router.
    Sharded(shards::Shards),
}

impl World {
    async fn start(accounts: u64) -> Self {
        let one = std::env::var("BIGFLEET_SHARDS").is_ok_and(|v| v.trim() == "1");
        if one {
            let moto = moto::Moto::start();
            let proxy = proxy::Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
            return World::One(moto, proxy);
        }
        let ids: Vec<String> = (0..accounts).map(account_id).collect();
        World::Sharded(shards::Shards::start(&ids).await)
    }

    /// Where the seeding goes (no delay).
    fn seed_url(&self) -> String {
        match self {
            World::One(moto, _) => moto.url(),
            World::Sharded(shards) => shards.url.clone(),
        }
    }

    /// Where the assistant reads, `delay` added to each call.
    fn read_url(&self, delay: Duration) -> String {
        match self {
            World::One(_, proxy) => {
                proxy.set(proxy::Fault::PerRequest(delay));
                proxy.url.clone()
            }
            World::Sharded(shards) => {
                shards.set_delay(delay);
                shards.url.clone()
            }
        }
    }

    /// The moto account 0 is served by, to probe alone.
    fn moto_of_first(&self) -> &moto::Moto {
        match self {
            World::One(moto, _) => moto,
            World::Sharded(shards) => shards.moto_of(&account_id(0)),
        }
    }

    /// The moto servers' process ids.
    fn pids(&self) -> Vec<u32> {
        match self {
            World::One(moto, _) => moto.pid().into_iter().collect(),
            World::Sharded(shards) => shards.pids(),
        }
    }

    fn describe(&self) -> String {
        match self {
            World::One(..) => "one moto server for every account (BIGFLEET_SHARDS=1)".to_owned(),
            World::Sharded(shards) => {
                let (home, accounts) = shards.routed();
                format!(
                    "a moto server per account ({} in all, the home account's included; \
                     {accounts} requests to the accounts' so far, {home} to the home one)",
                    shards.servers()
                )
            }
        }
    }
}

pub async fn run(accounts: u64, regions: u64, services: u64, delay_ms: u64) {
    let timeline = timeline::install();
    // `BIGFLEET_ONLY=ServiceHealth,FleetSummary`: only these intents.
    let only = std::env::var("BIGFLEET_ONLY").ok();
    let mut world = World::start(accounts).await;
    let started = Instant::now();
    seed(&world.seed_url(), accounts, regions, services).await;
    if let World::Sharded(shards) = &mut world {
        shards.check_running();
    }
    let total = accounts * regions * services;
    eprintln!(
        "seeded {total} services in {:.0?}, {}",
        started.elapsed(),
        world.describe()
    );
    if std::env::var_os("BIGFLEET_MOTO").is_some() {
        probe_moto(world.moto_of_first(), services).await;
    }
    let through = moto::sdk_for(&world.read_url(Duration::from_millis(delay_ms))).await;
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
        "{accounts} accounts x {regions} regions, {total} services, {} alarms, {delay_ms} ms added per AWS call, {}\n",
        total * 2,
        world.describe()
    );
    println!(
        "| intent | cold | AWS calls (cold) | refreshed | AWS calls (refreshed) | warm | AWS calls (warm) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    // `BIGFLEET_RUNS=5`: each measure that many times (a new assistant each time), the
    // range and median shown; the calls and the words are the first run's.
    let runs: usize = std::env::var("BIGFLEET_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut said = Vec::new();
    for (name, question) in &questions {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == *name))
        {
            continue;
        }
        let (mut cold_times, mut warm_times, mut refreshed_times) =
            (Vec::new(), Vec::new(), Vec::new());
        let (mut first, mut partial) = (None, 0);
        for _ in 0..runs {
            // moto is still working through what an answer that ran out of time left in
            // flight: each answer is timed on an idle moto.
            settle().await;
            let (cold, cold_calls) = live(&through, &listed).await;
            timeline::clear();
            let pids = world.pids();
            let cpu = timeline::Cpu::now(&pids);
            let asked = Instant::now();
            let (took_cold, words, calls_cold) = ask(&cold, &cold_calls, question).await;
            if timeline {
                eprintln!("{name}, cold: {}", ms(took_cold));
                timeline::report(asked, took_cold);
                // moto works on after an answer that gave up: its CPU counted until idle.
                let answered = timeline::Cpu::now(&pids);
                settle().await;
                eprintln!("    during the answer: {}", answered.since(&cpu));
                eprintln!(
                    "    until moto was idle: {}",
                    timeline::Cpu::now(&pids).since(&cpu)
                );
            }
            cold_times.push(took_cold);
            if words.contains("didn't answer") {
                partial += 1;
            }
            if std::env::var_os("BIGFLEET_COLD").is_some() {
                // `BIGFLEET_COLD=1`: the cold answers only.
                first.get_or_insert((words, calls_cold, String::new(), String::new()));
                continue;
            }
            let (took_warm, _, calls_warm) = ask(&cold, &cold_calls, question).await;
            warm_times.push(took_warm);

            let (refreshed, refreshed_calls) = live(&through, &listed).await;
            let _ = refreshed.dialog().ops().warm().await;
            settle().await;
            let (took_refreshed, _, calls_refreshed) =
                ask(&refreshed, &refreshed_calls, question).await;
            refreshed_times.push(took_refreshed);
            first.get_or_insert((words, calls_cold, calls_refreshed, calls_warm));
        }
        let (words, calls_cold, calls_refreshed, calls_warm) = first.unwrap_or_default();
        let mut cold = times(&cold_times);
        if partial > 0 {
            cold.push_str(&format!(", partial in {partial} of {runs}"));
        }
        println!(
            "| {name} | {cold} | {calls_cold} | {} | {calls_refreshed} | {} | {calls_warm} |",
            times(&refreshed_times),
            times(&warm_times)
        );
        said.push((name, words));
    }
    println!();
    for (name, words) in said {
        let first = words.lines().next().unwrap_or_default();
        println!("- {name} (cold): {first}");
    }
    println!("\n{}", world.describe());
}

/// One run's time, or the median of several with their range.
pub(crate) fn times(all: &[Duration]) -> String {
    let mut sorted = all.to_vec();
    sorted.sort();
    match sorted.as_slice() {
        [] => String::new(),
        [one] => ms(*one),
        many => format!(
            "{} ({} to {})",
            ms(many[many.len() / 2]),
            many[0].as_millis(),
            many[many.len() - 1].as_millis()
        ),
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
