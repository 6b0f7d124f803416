//! The live backend end to end: the real AWS SDK clients against moto server, through the
//! Lex adapter, `/v1/ask`'s understanding and the `opsvoice ask` binary. Plus the cache's
//! promises: one upstream call per piece of data however many ask at once, batching at
//! fleet scale, stale answers with their age when moto dies, a deadline that holds against
//! a server that never answers, and throttling that degrades instead of failing.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::StateValue;
use common::moto::{Fleet, Live, Moto, Seed};
use opsvoice::channel::Assistant;
use opsvoice::channel::ask::AskRequest;
use opsvoice::config::Config;
use opsvoice::ops::aws::CallCounts;
use opsvoice::ops::{Clock, ManualClock, SystemClock};
use serde_json::{Value, json};

const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-tg/73e2d6bc24d8a067";
const TG: &str = "targetgroup/checkout-tg/73e2d6bc24d8a067";
const LB: &str = "app/prod-alb/50dc6c495c0c9188";

fn live_from(
    ecs: aws_sdk_ecs::Client,
    cw: aws_sdk_cloudwatch::Client,
    clock: Arc<dyn Clock>,
) -> (Arc<Assistant>, Arc<CallCounts>) {
    let live = Live::with(ecs, cw, clock, &Config::default());
    (live.assistant, live.calls)
}

fn live(sdk: &SdkConfig, clock: Arc<dyn Clock>) -> (Arc<Assistant>, Arc<CallCounts>) {
    let live = Live::on(sdk, clock);
    (live.assistant, live.calls)
}

/// prod: checkout (healthy tasks, CPU alarm firing, behind a target group), cart (healthy),
/// payments-api (2 of 4 tasks: mid-rollout). staging: search (healthy).
///
/// No composite alarm: moto 5.2.5 has no PutCompositeAlarm, and its PutMetricAlarm drops
/// `AlarmRule`. Composite alarms are covered with a mocked DescribeAlarms below.
fn fleet() -> Fleet {
    Fleet::new()
        .service_behind("prod", "checkout", 2, TG_ARN)
        .service("prod", "cart", 2)
        .service("prod", "payments-api", 4)
        .service("staging", "search", 2)
        .alarm(
            "checkout-cpu-high",
            "prod",
            "checkout",
            StateValue::Alarm,
            "Threshold Crossed: 1 datapoint [91.0] was greater than the threshold (80.0).",
        )
        .alarm(
            "cart-cpu-high",
            "prod",
            "cart",
            StateValue::Ok,
            "Threshold Crossed: 1 datapoint [12.0] was not greater than the threshold (80.0).",
        )
        .cpu("prod", "checkout", &[(3, 40.0), (2, 50.0), (1, 60.0)])
}

async fn seed_fleet(sdk: &SdkConfig) {
    let seed = Seed::new(sdk).await;
    seed.plant(&fleet()).await;
    seed.alb_5xx(LB, TG, &[(2, 4.0), (1, 6.0)]).await;
}

async fn ask(assistant: &Assistant, text: &str) -> String {
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
        .text
}

fn lex_event(intent: &str, service: Option<&str>) -> Value {
    let mut e = common::fixture("lex/service-health-voice.json");
    let slot = service.map_or(Value::Null, |s| {
        json!({"shape": "Scalar", "value": {"originalValue": s, "interpretedValue": s, "resolvedValues": [s]}})
    });
    e["sessionState"]["intent"] = json!({"name": intent, "state": "ReadyForFulfillment", "confirmationState": "None", "slots": {"service": slot, "cluster": null}});
    e
}

async fn lex_says(assistant: &Assistant, event: &Value) -> String {
    let event = serde_json::from_value(event.clone()).unwrap();
    let response = serde_json::to_value(assistant.lex(&event).await).unwrap();
    common::assert_valid_lex_response(&response);
    common::assert_valid_ssml(response["messages"][0]["content"].as_str().unwrap())
}

#[tokio::test]
async fn every_intent_answers_the_seeded_truth() {
    let metrics = opsvoice::telemetry::metrics();
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    seed_fleet(&sdk).await;
    let (assistant, _) = live(&sdk, Arc::new(SystemClock));

    let checks: &[(&str, &[&str])] = &[
        (
            "how is checkout doing",
            &["checkout is degraded: all 2 tasks running, 1 alarm firing for less than a minute."],
        ),
        (
            "is cart healthy",
            &["cart is healthy: all 2 tasks running, no alarms firing."],
        ),
        (
            "is payments api up",
            &["payments-api is deploying: 2 of 4 new tasks up"],
        ),
        (
            "did the payments api deploy finish",
            &["payments-api is still deploying payments-api:1: 2 of 4 new tasks are up"],
        ),
        (
            "is the cart deployment done",
            &["cart's last deploy, cart:1, finished"],
        ),
        (
            "any alarms firing",
            &[
                "One alarm is firing:",
                "checkout-cpu-high, for less than a minute. [prod/checkout]",
            ],
        ),
        (
            "what's on fire in staging",
            &["No alarms are firing in staging."],
        ),
        (
            "why is the checkout cpu alarm firing",
            &[
                "checkout-cpu-high has been firing for less than a minute. 1 datapoint [91.0] was greater than the threshold (80.0). It belongs to checkout.",
            ],
        ),
        (
            "what's the cpu of checkout",
            &["CPU for checkout is 60% now, averaging 50% over the last hour, with a peak of 60%."],
        ),
        (
            "how many 5xx is checkout throwing",
            &[
                "5xx errors for checkout is 6/min now, averaging 5/min over the last hour, with a peak of 6/min.",
            ],
        ),
        (
            "what's the memory of cart",
            &["cart has no memory data for the last hour."],
        ),
        (
            "how's the fleet",
            &[
                "The fleet: 2 of 4 services healthy. One alarm firing.",
                "prod/checkout: degraded, 2 of 2 tasks running, 1 alarm firing",
                "prod/payments-api: deploying, 2 of 4 tasks running",
            ],
        ),
        (
            "how's prod",
            &["prod: 1 of 3 services healthy. One alarm firing."],
        ),
        (
            "what changed in the last hour",
            &["4 deployments in the last hour."],
        ),
    ];
    let mut failures = Vec::new();
    for (question, expected) in checks {
        let text = ask(&assistant, question).await;
        for e in *expected {
            if !text.contains(e) {
                failures.push(format!("{question:?}: missing {e:?} in {text:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The Lex adapter, voice: the same facts, spoken.
    let spoken = lex_says(
        &assistant,
        &common::fixture("lex/service-health-voice.json"),
    )
    .await;
    assert_eq!(
        spoken,
        "checkout is degraded: all 2 tasks running, 1 alarm firing for less than a minute."
    );

    // Every upstream call is counted and timed per API in /metrics.
    let text = metrics.render();
    for needle in [
        "opsvoice_upstream_calls_total{api=\"ecs:DescribeServices\",outcome=\"ok\"}",
        "opsvoice_upstream_calls_total{api=\"cloudwatch:GetMetricData\",outcome=\"ok\"}",
        "opsvoice_upstream_seconds_bucket{api=\"cloudwatch:DescribeAlarms\"",
        "opsvoice_cache_total{kind=\"firing_alarms\",result=\"hit\"}",
    ] {
        assert!(text.contains(needle), "{needle} not in /metrics:\n{text}");
    }
}

#[tokio::test]
async fn opsvoice_ask_uses_the_standard_aws_chain_and_endpoint() {
    let moto = Moto::start();
    seed_fleet(&moto.sdk().await).await;
    let out = moto
        .opsvoice(&["ask", "is", "cart", "healthy?"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("cart is healthy: all 2 tasks running, no alarms firing."),
        "{text}"
    );

    // serve refuses live data for unverified callers.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsvoice"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("OPSVOICE_BACKEND", "aws")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must only reach verified Cognito users")
    );
}

#[tokio::test]
async fn a_hundred_identical_questions_cost_one_upstream_call_each() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    seed_fleet(&sdk).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Each piece of data once: the cluster list, one service listing per cluster (prod,
    // staging), one DescribeServices per service batch, one alarm listing.
    type Scenario<'a> = (&'a str, Value, &'a [(&'a str, u64)]);
    let expected: [Scenario<'_>; 3] = [
        (
            "ServiceHealth checkout",
            lex_event("ServiceHealth", Some("checkout")),
            &[
                ("cloudwatch:DescribeAlarms", 1),
                ("ecs:DescribeServices", 1),
                ("ecs:ListClusters", 1),
                ("ecs:ListServices", 2),
            ],
        ),
        (
            "ActiveAlarms",
            lex_event("ActiveAlarms", None),
            // Every firing alarm is tied to its service by its dimensions: no service
            // names are listed (they are only for alarms no dimension ties).
            &[("cloudwatch:DescribeAlarms", 1)],
        ),
        (
            "FleetSummary",
            lex_event("FleetSummary", None),
            &[
                ("cloudwatch:DescribeAlarms", 1),
                ("ecs:DescribeServices", 2),
                ("ecs:ListClusters", 1),
                ("ecs:ListServices", 2),
            ],
        ),
    ];
    for (name, event, pieces) in expected {
        // What one question costs, on a cold cache.
        let (one, one_calls) = live(&sdk, clock.clone());
        lex_says(&one, &event).await;
        let single = one_calls.snapshot();

        // A hundred at once, on another cold cache: the same calls, not a hundred times them.
        let (many, calls) = live(&sdk, clock.clone());
        let answers =
            futures_util::future::join_all((0..100).map(|_| lex_says(&many, &event))).await;
        assert!(
            answers.iter().all(|a| a == &answers[0]),
            "{name}: all hundred agree"
        );
        let concurrent = calls.snapshot();
        assert_eq!(concurrent, single, "{name}: 100 concurrent questions vs 1");
        let pieces: std::collections::BTreeMap<&str, u64> = pieces.iter().copied().collect();
        assert_eq!(single, pieces, "{name}: each piece of data fetched once");

        // Again within the TTL: nothing upstream.
        futures_util::future::join_all((0..100).map(|_| lex_says(&many, &event))).await;
        assert_eq!(
            calls.snapshot(),
            single,
            "{name}: repeats within the TTL are served from the cache"
        );
        println!("{name}: upstream calls for 1 or 100 concurrent questions: {single:?}");
    }
}

#[tokio::test]
async fn a_fleet_summary_of_200_services_batches_describe_services() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let seed = Seed::new(&sdk).await;
    for c in 0..5 {
        let cluster = format!("cluster-{c}");
        seed.cluster(&cluster).await;
        futures_util::future::join_all((0..40).map(|s| {
            let seed = &seed;
            let cluster = cluster.clone();
            async move {
                seed.service(&cluster, &format!("svc-{c}-{s:02}"), 2, None)
                    .await
            }
        }))
        .await;
    }
    let (assistant, calls) = live(&sdk, Arc::new(SystemClock));
    let spoken = lex_says(&assistant, &lex_event("FleetSummary", None)).await;
    assert!(
        spoken.starts_with("The fleet: all 200 services are healthy."),
        "{spoken}"
    );
    let counts = calls.snapshot();
    let describe = counts.get("ecs:DescribeServices").copied().unwrap_or(0);
    let list = counts.get("ecs:ListServices").copied().unwrap_or(0);
    println!("fleet summary over 200 services in 5 clusters: {counts:?}");
    assert_eq!(describe, 20, "ceil(200 / 10)");
    assert_eq!(list, 5, "one page per cluster");
    assert!(describe + list <= 200_u64.div_ceil(10) + 5);
}

#[tokio::test]
async fn moto_stopped_means_stale_answers_with_their_age_and_back_means_fresh() {
    let mut moto = Moto::start();
    let sdk = moto.sdk().await;
    seed_fleet(&sdk).await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let (assistant, _) = live(&sdk, clock.clone());
    let event = common::fixture("lex/service-health-voice.json");

    let fresh = lex_says(&assistant, &event).await;
    assert!(fresh.starts_with("checkout is degraded"), "{fresh}");

    clock.advance(Duration::from_secs(120));
    moto.stop();
    let started = Instant::now();
    let stale = lex_says(&assistant, &event).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "within the deadline: {:?}",
        started.elapsed()
    );
    // Both fetches failed, and the answer names both, the same way every time.
    assert!(
        stale.starts_with(
            "I can't reach CloudWatch or ECS right now, so this is from 2 minutes ago. checkout is degraded"
        ),
        "{stale}"
    );

    // A question never asked before has no stale data: it says what is unavailable.
    let cold = lex_says(&assistant, &lex_event("ServiceHealth", Some("cart"))).await;
    assert!(
        cold.starts_with("I can't reach ECS right now, so I can't answer that."),
        "{cold}"
    );

    // moto back (empty, so seeded again, now with checkout's alarm cleared): fresh again.
    moto.restart();
    seed_fleet(&sdk).await;
    Seed::new(&sdk)
        .await
        .set_state("checkout-cpu-high", StateValue::Ok, "recovered")
        .await;
    clock.advance(Duration::from_secs(10));
    let back = lex_says(&assistant, &event).await;
    assert_eq!(
        back,
        "checkout is healthy: all 2 tasks running, no alarms firing."
    );
}

#[tokio::test]
async fn an_upstream_that_never_answers_cannot_break_the_deadline() {
    // Accepts connections and never says a word; stops by itself.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        let until = Instant::now() + Duration::from_secs(30);
        listener.set_nonblocking(true).unwrap();
        while Instant::now() < until {
            if let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let sdk = common::moto::sdk_for(&format!("http://{addr}")).await;
    let (assistant, _) = live(&sdk, Arc::new(SystemClock));
    let started = Instant::now();
    let spoken = lex_says(
        &assistant,
        &common::fixture("lex/service-health-voice.json"),
    )
    .await;
    let elapsed = started.elapsed();
    println!("hung upstream answered in {elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(3200),
        "deadline held: {elapsed:?}"
    );
    // It took the connection and said nothing: slow, not unreachable.
    assert_eq!(
        spoken,
        "ECS is slow right now, so I can't answer that. Please try again in a moment."
    );
}

mod mocked {
    //! Throttling and composite alarms, with mocked SDK clients: moto neither throttles
    //! nor stores composite alarms.
    use super::*;
    use aws_config::retry::RetryConfig;
    use aws_sdk_cloudwatch::operation::describe_alarms::{
        DescribeAlarmsError, DescribeAlarmsOutput,
    };
    use aws_sdk_ecs::operation::describe_services::{
        DescribeServicesError, DescribeServicesOutput,
    };
    use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
    use aws_sdk_ecs::operation::list_services::ListServicesOutput;
    use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::DateTime;

    fn checkout() -> DescribeServicesOutput {
        let t = DateTime::from(SystemTime::now() - Duration::from_secs(3600));
        DescribeServicesOutput::builder()
            .services(
                Service::builder()
                    .service_name("checkout")
                    .status("ACTIVE")
                    .desired_count(2)
                    .running_count(2)
                    .deployments(
                        Deployment::builder()
                            .id("ecs-svc/1")
                            .status("PRIMARY")
                            .rollout_state(DeploymentRolloutState::Completed)
                            .task_definition("arn:aws:ecs:us-east-1:1:task-definition/checkout:7")
                            .desired_count(2)
                            .running_count(2)
                            .created_at(t)
                            .updated_at(t)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn throttled<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
        make: fn(aws_smithy_types::error::ErrorMetadata) -> E,
    ) -> E {
        make(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("ThrottlingException")
                .message("Rate exceeded")
                .build(),
        )
    }

    fn ecs(describe_fails_after_first: bool) -> aws_sdk_ecs::Client {
        let clusters = mock!(aws_sdk_ecs::Client::list_clusters).then_output(|| {
            ListClustersOutput::builder()
                .cluster_arns("arn:aws:ecs:us-east-1:1:cluster/prod")
                .build()
        });
        let services = mock!(aws_sdk_ecs::Client::list_services).then_output(|| {
            ListServicesOutput::builder()
                .service_arns("arn:aws:ecs:us-east-1:1:service/prod/checkout")
                .build()
        });
        let describe = if describe_fails_after_first {
            mock!(aws_sdk_ecs::Client::describe_services)
                .sequence()
                .output(checkout)
                .error(|| throttled(DescribeServicesError::generic))
                .repeatedly()
                .build()
        } else {
            mock!(aws_sdk_ecs::Client::describe_services).then_output(checkout)
        };
        // Retries as the real clients make them (src/aws.rs): the SDK's default of three
        // attempts backs off for up to 3 s in all, past the 2.5 s upstream deadline at
        // random, and a throttled ECS was then sometimes reported as a slow one.
        mock_client!(
            aws_sdk_ecs,
            RuleMode::MatchAny,
            [&clusters, &services, &describe],
            |c| c.retry_config(RetryConfig::standard().with_max_attempts(2))
        )
    }

    fn cloudwatch(throttled_always: bool) -> aws_sdk_cloudwatch::Client {
        let alarms = if throttled_always {
            mock!(aws_sdk_cloudwatch::Client::describe_alarms)
                .then_error(|| throttled(DescribeAlarmsError::generic))
        } else {
            mock!(aws_sdk_cloudwatch::Client::describe_alarms)
                .then_output(|| DescribeAlarmsOutput::builder().build())
        };
        mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&alarms], |c| c
            .retry_config(RetryConfig::standard().with_max_attempts(2)))
    }

    #[tokio::test]
    async fn composite_alarms_are_read_and_named_as_such() {
        use aws_sdk_cloudwatch::types::CompositeAlarm;
        let t = DateTime::from(SystemTime::now() - Duration::from_secs(11 * 60));
        let alarms = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(move || {
            DescribeAlarmsOutput::builder()
                .composite_alarms(
                    CompositeAlarm::builder()
                        .alarm_name("prod-customer-impact")
                        .alarm_rule("ALARM(checkout-p99) OR ALARM(cart-5xx)")
                        .state_value(StateValue::Alarm)
                        .state_reason("checkout-p99 is in ALARM")
                        .state_updated_timestamp(t)
                        .build(),
                )
                .build()
        });
        let cw = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&alarms]);
        let (assistant, _) = live_from(ecs(false), cw, Arc::new(SystemClock));
        let spoken = lex_says(&assistant, &lex_event("ActiveAlarms", None)).await;
        assert_eq!(
            spoken,
            "One alarm is firing: prod customer impact, a composite alarm, for 11 minutes."
        );
    }

    #[tokio::test]
    async fn throttled_ecs_serves_the_last_answer_with_its_age() {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let (assistant, _) = live_from(ecs(true), cloudwatch(false), clock.clone());
        let event = lex_event("ServiceHealth", Some("checkout"));
        assert_eq!(
            lex_says(&assistant, &event).await,
            "checkout is healthy: all 2 tasks running, no alarms firing."
        );
        clock.advance(Duration::from_secs(60));
        let spoken = lex_says(&assistant, &event).await;
        assert_eq!(
            spoken,
            "I can't reach ECS right now, so this is from a minute ago. checkout is healthy: all 2 tasks running, no alarms firing."
        );
    }

    #[tokio::test]
    async fn throttled_cloudwatch_still_answers_from_ecs_and_says_what_is_missing() {
        let (assistant, _) = live_from(ecs(false), cloudwatch(true), Arc::new(SystemClock));
        let spoken = lex_says(&assistant, &lex_event("ServiceHealth", Some("checkout"))).await;
        assert_eq!(
            spoken,
            "checkout is healthy: all 2 tasks running. I couldn't reach CloudWatch, so alarms aren't included."
        );
        let spoken = lex_says(&assistant, &lex_event("ActiveAlarms", None)).await;
        assert_eq!(
            spoken,
            "I can't reach CloudWatch right now, so I can't answer that. Please try again in a moment."
        );
    }
}

#[test]
fn a_missing_moto_is_a_failure_that_names_the_setup_command() {
    // SAFETY of the check: only this test reads the variable it sets, and only here.
    let message = {
        let path = std::path::Path::new("/nonexistent/moto_server");
        assert!(!path.exists());
        common::moto::moto_server_path_at(path).unwrap_err()
    };
    assert!(message.contains("scripts/test.sh"), "{message}");
}

#[tokio::test]
async fn models_build_from_backend_takes_names_from_ecs_and_cloudwatch() {
    let moto = Moto::start();
    seed_fleet(&moto.sdk().await).await;
    let out = tempfile::tempdir().unwrap();
    let run = moto
        .opsvoice(&["models", "build", "--from-backend", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("4 services, 2 clusters, 2 alarms"));
    let model: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("alexa/en-US.json")).unwrap())
            .unwrap();
    let types = model["interactionModel"]["languageModel"]["types"]
        .as_array()
        .unwrap();
    let ids = |name: &str| -> Vec<String> {
        let t = types.iter().find(|t| t["name"] == name).unwrap();
        t["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids("ServiceName"),
        ["cart", "checkout", "payments-api", "search"]
    );
    assert_eq!(ids("ClusterName"), ["prod", "staging"]);
    assert_eq!(ids("AlarmName"), ["cart-cpu-high", "checkout-cpu-high"]);
    let lex = std::fs::read_to_string(
        out.path()
            .join("lex/opsvoice/BotLocales/en_US/SlotTypes/ServiceName/SlotType.json"),
    )
    .unwrap();
    assert!(lex.contains("\"payments api\""), "{lex}");
    assert!(
        !lex.contains("email sender"),
        "no demo names from a live backend"
    );
}

/// An answer reads only what it needs: with 250 alarms in the account (three pages of
/// the full list), a service's health costs one DescribeAlarms (the firing ones), and a
/// spoken alarm that is not firing is found by its name prefix, never by reading them all.
#[tokio::test]
async fn answers_read_the_firing_alarms_not_every_alarm() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    seed_fleet(&sdk).await;
    let seed = Seed::new(&sdk).await;
    // A few at a time: moto answers 250 at once slowly enough to trip the setup timeouts.
    use futures_util::StreamExt as _;
    futures_util::stream::iter(0..250)
        .for_each_concurrent(8, |i| {
            let seed = &seed;
            async move {
                seed.service_alarm(
                    &format!("cart-disk-{i:03}"),
                    "prod",
                    "cart",
                    StateValue::Ok,
                    "fine",
                )
                .await;
            }
        })
        .await;
    let (assistant, calls) = live(&sdk, Arc::new(SystemClock));
    let spoken = lex_says(&assistant, &lex_event("ServiceHealth", Some("checkout"))).await;
    assert!(
        spoken.starts_with("checkout is degraded: all 2 tasks running, 1 alarm firing"),
        "{spoken}"
    );
    assert_eq!(
        calls.get("cloudwatch:DescribeAlarms"),
        1,
        "{:?}",
        calls.snapshot()
    );

    // "cart disk 042" is not firing: found through AlarmNamePrefix "cart", one listing.
    let before = calls.get("cloudwatch:DescribeAlarms");
    let mut event = lex_event("AlarmDetail", None);
    event["sessionState"]["intent"]["slots"]["alarm"] = json!({"shape": "Scalar", "value": {
        "originalValue": "cart disk 042", "interpretedValue": "cart disk 042",
        "resolvedValues": []}});
    let spoken = lex_says(&assistant, &event).await;
    assert!(spoken.contains("cart disk 042"), "{spoken}");
    assert!(spoken.contains("OK") || spoken.contains(" ok"), "{spoken}");
    let listings = calls.get("cloudwatch:DescribeAlarms") - before;
    // The prefix listing (3 pages of 100 for 251 cart alarms) and the alarm itself; the
    // firing list was cached. Reading every alarm would have been 3 more pages.
    assert!(
        listings <= 4,
        "{listings} DescribeAlarms calls: {:?}",
        calls.snapshot()
    );
}

/// `serve`'s background refresh: after it has run, the first question finds the catalog,
/// the firing alarms and the service statuses warm; it keeps renewing them; and it stops
/// when told to.
#[tokio::test]
async fn the_background_refresh_warms_the_first_question_and_stops_when_told() {
    let moto = Moto::seeded(&fleet()).await;
    let sdk = moto.sdk().await;
    let (assistant, calls) = live(&sdk, Arc::new(SystemClock));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let warm = tokio::spawn(opsvoice::app::keep_warm(
        assistant.dialog().ops().clone(),
        Duration::from_millis(300),
        async move {
            let _ = stopped.await;
        },
    ));
    // Long enough for the first renewal and, with a 15 s alarm TTL, no second one yet:
    // the idle server the issue describes, compressed (the renewal age is what matters).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let warmed = calls.snapshot();
    // The firing alarms and the index of every alarm's name (one page each here).
    assert_eq!(
        warmed.get("cloudwatch:DescribeAlarms"),
        Some(&2),
        "{warmed:?}"
    );
    assert_eq!(warmed.get("ecs:ListClusters"), Some(&1), "{warmed:?}");
    // Each of the two clusters' statuses: one DescribeServices each.
    assert_eq!(warmed.get("ecs:DescribeServices"), Some(&2), "{warmed:?}");

    let spoken = lex_says(&assistant, &lex_event("ServiceHealth", Some("checkout"))).await;
    assert!(spoken.starts_with("checkout is degraded"), "{spoken}");
    let after = calls.snapshot();
    assert_eq!(after, warmed, "the question made no call");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(2), warm)
        .await
        .expect("the refresh stops when told")
        .unwrap();
}

/// After one refresh, the answers that read everything make no call: the fleet and what
/// changed (its deployments are the ones DescribeServices reports) are told from the
/// statuses kept, a service's health and deployments too; an alarm the firing listing has
/// costs only its history; one named that is not firing, found in the index of alarm
/// names, costs its alarm and its history (no listing by its name).
#[tokio::test]
async fn after_a_refresh_the_fleet_and_what_changed_make_no_call_and_an_alarm_only_its_own() {
    let moto = Moto::seeded(&fleet()).await;
    let sdk = moto.sdk().await;
    let (assistant, calls) = live(&sdk, Arc::new(SystemClock));
    assistant.dialog().ops().warm().await.unwrap();
    let warmed = calls.snapshot();

    let fleet = lex_says(&assistant, &lex_event("FleetSummary", None)).await;
    assert!(fleet.contains("of 4 services healthy"), "{fleet}");
    let changed = lex_says(&assistant, &lex_event("WhatChanged", None)).await;
    assert!(
        changed.starts_with("4 deployments in the last hour."),
        "{changed}"
    );
    assert!(changed.contains("payments API is rolling out"), "{changed}");
    let deploying = lex_says(
        &assistant,
        &lex_event("DeploymentStatus", Some("payments-api")),
    )
    .await;
    assert!(deploying.contains("payments API"), "{deploying}");
    let health = lex_says(&assistant, &lex_event("ServiceHealth", Some("cart"))).await;
    assert!(health.starts_with("cart is healthy"), "{health}");
    assert_eq!(calls.snapshot(), warmed, "no call at all");

    let alarm = |name: &str| {
        let mut e = lex_event("AlarmDetail", None);
        e["sessionState"]["intent"]["slots"]["alarm"] = json!({"shape": "Scalar",
            "value": {"originalValue": name, "interpretedValue": name, "resolvedValues": [name]}});
        e
    };
    let made = |api: &str, before: &std::collections::BTreeMap<&str, u64>| {
        calls.get(api) - before.get(api).copied().unwrap_or(0)
    };
    let firing = lex_says(&assistant, &alarm("checkout-cpu-high")).await;
    assert!(firing.contains("has been firing"), "{firing}");
    let after = calls.snapshot();
    assert_eq!(
        made("cloudwatch:DescribeAlarmHistory", &warmed),
        1,
        "{after:?}"
    );
    assert_eq!(made("cloudwatch:DescribeAlarms", &warmed), 0, "{after:?}");
    assert_eq!(
        after.values().sum::<u64>(),
        warmed.values().sum::<u64>() + 1
    );

    let quiet = lex_says(&assistant, &alarm("cart-cpu-high")).await;
    assert!(quiet.contains("is not firing"), "{quiet}");
    assert_eq!(
        made("cloudwatch:DescribeAlarms", &after),
        1,
        "{:?}",
        calls.snapshot()
    );
    assert_eq!(made("cloudwatch:DescribeAlarmHistory", &after), 1);
    assert_eq!(
        calls.snapshot().values().sum::<u64>(),
        after.values().sum::<u64>() + 2
    );
}

/// With the upstream down during a refresh, the last good data stays, and an answer
/// from it says how old it is once that is over 30 s.
#[tokio::test]
async fn a_refresh_that_fails_keeps_the_last_good_data_and_answers_give_its_age() {
    let mut moto = Moto::seeded(&fleet()).await;
    let sdk = moto.sdk().await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let (assistant, _) = live(&sdk, clock.clone());
    let ops = assistant.dialog().ops().clone();
    ops.warm().await.unwrap();
    let event = lex_event("ServiceHealth", Some("checkout"));
    let fresh = lex_says(&assistant, &event).await;
    assert!(fresh.starts_with("checkout is degraded"), "{fresh}");

    moto.stop();
    clock.advance(Duration::from_secs(10));
    assert!(ops.warm().await.is_err(), "moto is down");
    // Still inside the TTL of what the answer needs: the same answer, no preface.
    assert_eq!(lex_says(&assistant, &event).await, fresh);

    clock.advance(Duration::from_secs(35));
    assert!(ops.warm().await.is_err(), "moto is still down");
    let stale = lex_says(&assistant, &event).await;
    assert!(
        stale.starts_with(
            "I can't reach CloudWatch or ECS right now, so this is from less than a minute ago."
        ),
        "{stale}"
    );
    assert!(stale.contains("checkout is degraded"), "{stale}");
}
