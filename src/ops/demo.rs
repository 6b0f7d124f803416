//! The embedded demo fleet: a realistic, simulated set of clusters, services, deployments,
//! alarms and metrics, so `opsvoice serve` answers something true-to-life with no AWS at all.
//!
//! Everything is defined relative to the injected [`Clock`] ("firing for 12 minutes" stays
//! true whenever you ask), and the metric series are a deterministic function of the service,
//! the metric and the minute, so answers are reproducible and tests need no sleeps.
//!
//! Acting works here too, with no AWS: the fleet takes changes (a restart rolls out, a
//! scale settles, an alarm's actions go off; see [`DemoFleet::change_service`]) that every
//! clone of it shows, and the acting layer's demo effector (`act::effect::demo`) makes
//! them for the verbs. Until something is changed, every answer is as above.

mod changes;
mod chart;

pub use changes::{DemoChange, DemoRefusal, SETTLE, ServiceFacts};

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{
    Alarm, AlarmChart, AlarmDetail, AlarmKind, AlarmState, AlarmTransition, Catalog, Clock,
    Deployment, DeploymentOutcome, DeploymentRecord, DeploymentRole, MetricKind, MetricSeries,
    MetricUnit, OpsError, OpsSource, RolloutState, ServiceEvent, ServiceRef, ServiceStatus,
};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// What is going on with a demo service.
#[derive(Debug, Clone, Copy)]
enum Scenario {
    /// All tasks running; last deploy finished `deployed_ago` seconds ago.
    Healthy { deployed_ago: u64 },
    /// Fewer tasks running than desired, after a deploy `deployed_ago` seconds ago.
    Degraded { running: u32, deployed_ago: u64 },
    /// Nothing running, tasks keep failing to start.
    Down { since_ago: u64 },
    /// A rollout to a new revision started `started_ago` seconds ago; `new_running` tasks are up.
    Deploying { new_running: u32, started_ago: u64 },
    /// A rollout failed `failed_ago` seconds ago and the circuit breaker rolled it back.
    RolledBack { started_ago: u64, failed_ago: u64 },
}

#[derive(Debug)]
struct Spec {
    cluster: &'static str,
    name: &'static str,
    desired: u32,
    revision: u32,
    behind_load_balancer: bool,
    cpu: f64,
    memory: f64,
    scenario: Scenario,
}

#[allow(clippy::too_many_arguments)] // one row of the fleet table
const fn svc(
    cluster: &'static str,
    name: &'static str,
    desired: u32,
    revision: u32,
    behind_load_balancer: bool,
    cpu: f64,
    memory: f64,
    scenario: Scenario,
) -> Spec {
    Spec {
        cluster,
        name,
        desired,
        revision,
        behind_load_balancer,
        cpu,
        memory,
        scenario,
    }
}

use Scenario::{Degraded, Deploying, Down, Healthy, RolledBack};

#[rustfmt::skip]
const FLEET: &[Spec] = &[
    svc("prod", "checkout", 3, 42, true, 71.0, 64.0, Degraded { running: 2, deployed_ago: 44 * MINUTE }),
    svc("prod", "payments", 4, 131, true, 38.0, 52.0, Healthy { deployed_ago: 3 * 24 * HOUR }),
    svc("prod", "payments-api", 6, 88, true, 46.0, 58.0, Deploying { new_running: 4, started_ago: 6 * MINUTE }),
    svc("prod", "cart", 3, 57, true, 29.0, 41.0, Healthy { deployed_ago: 26 * HOUR }),
    svc("prod", "catalog", 4, 210, true, 33.0, 62.0, Healthy { deployed_ago: 5 * 24 * HOUR }),
    svc("prod", "search", 3, 77, true, 55.0, 70.0, Healthy { deployed_ago: 2 * 24 * HOUR }),
    svc("prod", "search-indexer", 2, 19, false, 62.0, 48.0, Healthy { deployed_ago: 9 * 24 * HOUR }),
    svc("prod", "inventory", 3, 64, true, 24.0, 39.0, Healthy { deployed_ago: 4 * HOUR }),
    svc("prod", "orders", 4, 152, true, 41.0, 55.0, Healthy { deployed_ago: 7 * 24 * HOUR }),
    svc("prod", "shipping", 2, 33, true, 22.0, 35.0, Healthy { deployed_ago: 12 * 24 * HOUR }),
    svc("prod", "pricing", 3, 17, true, 31.0, 44.0, RolledBack { started_ago: 38 * MINUTE, failed_ago: 25 * MINUTE }),
    svc("prod", "recommendations", 2, 45, true, 0.0, 0.0, Down { since_ago: 34 * MINUTE }),
    svc("prod", "reviews", 2, 23, true, 18.0, 30.0, Healthy { deployed_ago: 15 * 24 * HOUR }),
    svc("prod", "web-frontend", 6, 402, true, 36.0, 47.0, Healthy { deployed_ago: 2 * HOUR }),
    svc("prod", "mobile-bff", 4, 96, true, 27.0, 43.0, Healthy { deployed_ago: 30 * HOUR }),
    svc("prod", "fraud-check", 3, 58, true, 44.0, 61.0, Healthy { deployed_ago: 6 * 24 * HOUR }),
    svc("prod", "redis-proxy", 2, 8, false, 12.0, 22.0, Healthy { deployed_ago: 40 * 24 * HOUR }),
    svc("platform", "gateway", 4, 73, true, 39.0, 45.0, Healthy { deployed_ago: 8 * 24 * HOUR }),
    svc("platform", "auth", 3, 120, true, 26.0, 50.0, Healthy { deployed_ago: 5 * HOUR }),
    svc("platform", "user-profile", 2, 41, true, 19.0, 37.0, Healthy { deployed_ago: 11 * 24 * HOUR }),
    svc("platform", "notifications", 3, 66, false, 23.0, 40.0, Healthy { deployed_ago: 26 * HOUR }),
    svc("platform", "email-sender", 2, 29, false, 14.0, 28.0, Healthy { deployed_ago: 20 * 24 * HOUR }),
    svc("platform", "sms-sender", 2, 12, false, 11.0, 26.0, Healthy { deployed_ago: 20 * 24 * HOUR }),
    svc("platform", "image-resizer", 2, 37, false, 48.0, 57.0, Healthy { deployed_ago: 13 * 24 * HOUR }),
    svc("platform", "image-cache", 2, 15, true, 17.0, 66.0, Healthy { deployed_ago: 13 * 24 * HOUR }),
    svc("platform", "feature-flags", 2, 51, true, 9.0, 21.0, Healthy { deployed_ago: 3 * HOUR }),
    svc("platform", "audit-log", 2, 27, false, 16.0, 33.0, Healthy { deployed_ago: 17 * 24 * HOUR }),
    svc("data", "etl-ingest", 3, 71, false, 58.0, 63.0, Healthy { deployed_ago: 20 * MINUTE }),
    svc("data", "reporting", 2, 34, false, 21.0, 46.0, Healthy { deployed_ago: 10 * 24 * HOUR }),
    svc("data", "ml-scoring", 4, 26, false, 92.0, 74.0, Healthy { deployed_ago: 2 * 24 * HOUR }),
    svc("data", "feature-store", 2, 18, false, 28.0, 69.0, Healthy { deployed_ago: 4 * 24 * HOUR }),
    svc("data", "kafka-connect", 3, 44, false, 47.0, 71.0, Degraded { running: 2, deployed_ago: 3 * 24 * HOUR }),
    svc("data", "redis-proxy", 1, 8, false, 10.0, 20.0, Healthy { deployed_ago: 40 * 24 * HOUR }),
    svc("data", "ledger-export", 1, 9, false, 7.0, 18.0, Healthy { deployed_ago: 22 * 24 * HOUR }),
];

#[derive(Debug)]
struct AlarmSpec {
    name: &'static str,
    kind: AlarmKind,
    state: AlarmState,
    /// Seconds since the alarm entered its state.
    since_ago: u64,
    service: Option<(&'static str, &'static str)>,
    metric: Option<&'static str>,
    reason: &'static str,
    /// Earlier transitions: (seconds ago, summary), newest first.
    history: &'static [(u64, &'static str)],
}

#[rustfmt::skip]
const ALARMS: &[AlarmSpec] = &[
    AlarmSpec {
        name: "checkout-p99-latency-high", kind: AlarmKind::Metric, state: AlarmState::Alarm,
        since_ago: 12 * MINUTE, service: Some(("prod", "checkout")),
        metric: Some("AWS/ApplicationELB TargetResponseTime"),
        reason: "Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (1500 milliseconds); the latest was 2140 milliseconds.",
        history: &[(12 * MINUTE, "Alarm updated from OK to ALARM"), (2 * 24 * HOUR, "Alarm updated from ALARM to OK"), (2 * 24 * HOUR + 9 * MINUTE, "Alarm updated from OK to ALARM")],
    },
    AlarmSpec {
        name: "recommendations-running-tasks-low", kind: AlarmKind::Metric, state: AlarmState::Alarm,
        since_ago: 34 * MINUTE, service: Some(("prod", "recommendations")),
        metric: Some("ECS/ContainerInsights RunningTaskCount"),
        reason: "Threshold Crossed: 1 datapoint (0) was less than the threshold (1).",
        history: &[(34 * MINUTE, "Alarm updated from OK to ALARM")],
    },
    AlarmSpec {
        name: "recommendations-5xx-rate-high", kind: AlarmKind::Metric, state: AlarmState::Alarm,
        since_ago: 33 * MINUTE, service: Some(("prod", "recommendations")),
        metric: Some("AWS/ApplicationELB HTTPCode_Target_5XX_Count"),
        reason: "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (50 errors a minute).",
        history: &[(33 * MINUTE, "Alarm updated from OK to ALARM")],
    },
    AlarmSpec {
        name: "prod-customer-impact", kind: AlarmKind::Composite, state: AlarmState::Alarm,
        since_ago: 11 * MINUTE, service: None, metric: None,
        reason: "ALARM(checkout-p99-latency-high) OR ALARM(recommendations-5xx-rate-high) is true: checkout-p99-latency-high and recommendations-5xx-rate-high are in ALARM.",
        history: &[(11 * MINUTE, "Alarm updated from OK to ALARM")],
    },
    AlarmSpec {
        name: "ml-scoring-cpu-high", kind: AlarmKind::Metric, state: AlarmState::Alarm,
        since_ago: 47 * MINUTE, service: Some(("data", "ml-scoring")),
        metric: Some("AWS/ECS CPUUtilization"),
        reason: "Threshold Crossed: 5 out of the last 5 datapoints were greater than the threshold (85 percent); the latest was 92 percent.",
        history: &[(47 * MINUTE, "Alarm updated from OK to ALARM"), (26 * HOUR, "Alarm updated from ALARM to OK")],
    },
    AlarmSpec {
        name: "kafka-connect-consumer-lag", kind: AlarmKind::Metric, state: AlarmState::Alarm,
        since_ago: 2 * HOUR + 15 * MINUTE, service: Some(("data", "kafka-connect")),
        metric: Some("AWS/Kafka MaxOffsetLag"),
        reason: "Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (100000 messages).",
        history: &[(2 * HOUR + 15 * MINUTE, "Alarm updated from OK to ALARM")],
    },
    AlarmSpec {
        // Alarm names are free text in CloudWatch; this one keeps the SSML escaping honest.
        name: "shipping carrier timeouts > 5% & \"rising\"", kind: AlarmKind::Metric, state: AlarmState::Alarm,
        since_ago: 4 * MINUTE, service: Some(("prod", "shipping")),
        metric: Some("Shipping/Carrier TimeoutRate"),
        reason: "Threshold Crossed: 1 datapoint (6.2) was greater than the threshold (5 percent).",
        history: &[(4 * MINUTE, "Alarm updated from OK to ALARM")],
    },
    AlarmSpec {
        name: "pricing-5xx-rate-high", kind: AlarmKind::Metric, state: AlarmState::Ok,
        since_ago: 20 * MINUTE, service: Some(("prod", "pricing")),
        metric: Some("AWS/ApplicationELB HTTPCode_Target_5XX_Count"),
        reason: "Threshold Crossed: 3 out of the last 3 datapoints were not greater than the threshold (50 errors a minute).",
        history: &[(20 * MINUTE, "Alarm updated from ALARM to OK"), (30 * MINUTE, "Alarm updated from OK to ALARM")],
    },
    AlarmSpec {
        name: "checkout-5xx-rate-high", kind: AlarmKind::Metric, state: AlarmState::Ok,
        since_ago: 6 * 24 * HOUR, service: Some(("prod", "checkout")),
        metric: Some("AWS/ApplicationELB HTTPCode_Target_5XX_Count"),
        reason: "Threshold Crossed: 3 out of the last 3 datapoints were not greater than the threshold (50 errors a minute).",
        history: &[(6 * 24 * HOUR, "Alarm updated from ALARM to OK")],
    },
    AlarmSpec {
        name: "payments-api-5xx-rate-high", kind: AlarmKind::Metric, state: AlarmState::Ok,
        since_ago: 9 * 24 * HOUR, service: Some(("prod", "payments-api")),
        metric: Some("AWS/ApplicationELB HTTPCode_Target_5XX_Count"),
        reason: "Threshold Crossed: 3 out of the last 3 datapoints were not greater than the threshold (20 errors a minute).",
        history: &[],
    },
    AlarmSpec {
        name: "search-indexer-queue-depth", kind: AlarmKind::Metric, state: AlarmState::InsufficientData,
        since_ago: 3 * HOUR, service: Some(("prod", "search-indexer")),
        metric: Some("AWS/SQS ApproximateNumberOfMessagesVisible"),
        reason: "Insufficient Data: 1 datapoint was unknown.",
        history: &[(3 * HOUR, "Alarm updated from OK to INSUFFICIENT_DATA")],
    },
];

/// The embedded demo fleet. Cheap to create; all data is computed from constants and the
/// clock, and from the changes made to it since, which every clone shares.
#[derive(Debug, Clone)]
pub struct DemoFleet {
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
    acted: Arc<Mutex<changes::Acted>>,
}

impl DemoFleet {
    /// A demo fleet whose ages are measured against `clock`.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let mut clusters: Vec<String> = FLEET.iter().map(|s| s.cluster.to_owned()).collect();
        clusters.dedup();
        let catalog = Catalog {
            clusters,
            services: FLEET
                .iter()
                .map(|s| ServiceRef::new(s.cluster, s.name))
                .collect(),
        };
        Self {
            clock,
            catalog: Arc::new(catalog),
            acted: Arc::default(),
        }
    }

    fn ago(&self, secs: u64) -> SystemTime {
        self.clock.now() - Duration::from_secs(secs)
    }

    fn spec(&self, service: &ServiceRef) -> Option<&'static Spec> {
        FLEET
            .iter()
            .find(|s| s.cluster == service.cluster && s.name == service.name)
    }

    /// The service as it is now: as its scenario says, or as the actions taken on it left it.
    fn status(&self, spec: &Spec) -> ServiceStatus {
        self.acted_status(spec)
            .unwrap_or_else(|| self.scenario_status(spec))
    }

    /// The service as its scenario says, untouched.
    fn scenario_status(&self, spec: &Spec) -> ServiceStatus {
        let service = ServiceRef::new(spec.cluster, spec.name);
        let td = |rev: u32| format!("{}:{rev}", spec.name);
        let deployment = |id: &str,
                          role,
                          rollout,
                          rev,
                          running,
                          pending,
                          failed_tasks,
                          created_ago,
                          updated_ago,
                          reason: Option<&str>| Deployment {
            id: format!("ecs-svc/{}{id}", stable_digits(spec.name)),
            role,
            rollout,
            rollout_reason: reason.map(str::to_owned),
            task_definition: td(rev),
            desired: spec.desired,
            running,
            pending,
            failed_tasks,
            created_at: self.ago(created_ago),
            updated_at: self.ago(updated_ago),
        };
        let steady = |ago| ServiceEvent {
            at: self.ago(ago),
            message: format!("(service {}) has reached a steady state.", spec.name),
        };
        let (running, pending, deployments, events) = match spec.scenario {
            Healthy { deployed_ago } => (
                spec.desired,
                0,
                vec![deployment(
                    "1",
                    DeploymentRole::Primary,
                    RolloutState::Completed,
                    spec.revision,
                    spec.desired,
                    0,
                    0,
                    deployed_ago + 4 * MINUTE,
                    deployed_ago,
                    Some("ECS deployment completed."),
                )],
                vec![steady(deployed_ago.min(6 * HOUR))],
            ),
            Degraded {
                running,
                deployed_ago,
            } => (
                running,
                1,
                vec![deployment(
                    "1",
                    DeploymentRole::Primary,
                    RolloutState::Completed,
                    spec.revision,
                    running,
                    1,
                    3,
                    deployed_ago + 8 * MINUTE,
                    deployed_ago,
                    Some("ECS deployment completed."),
                )],
                vec![
                    ServiceEvent {
                        at: self.ago(2 * MINUTE),
                        message: format!(
                            "(service {}) has started 1 tasks: (task 5c1f0e9a2b7d4c36a8e1).",
                            spec.name
                        ),
                    },
                    ServiceEvent {
                        at: self.ago(3 * MINUTE),
                        message: format!(
                            "(service {}) has stopped 1 running tasks: (task 9e0b7c2d41f34a5b8c6d): Task failed container health checks.",
                            spec.name
                        ),
                    },
                    steady(deployed_ago),
                ],
            ),
            Down { since_ago } => (
                0,
                0,
                vec![deployment(
                    "1",
                    DeploymentRole::Primary,
                    RolloutState::Completed,
                    spec.revision,
                    0,
                    0,
                    9,
                    2 * 24 * HOUR,
                    since_ago,
                    Some("ECS deployment completed."),
                )],
                vec![
                    ServiceEvent {
                        at: self.ago(MINUTE),
                        message: format!(
                            "(service {}) is unable to consistently start tasks successfully.",
                            spec.name
                        ),
                    },
                    ServiceEvent {
                        at: self.ago(since_ago),
                        message: format!(
                            "(service {}) has stopped 2 running tasks: Essential container in task exited (OutOfMemoryError: Container killed due to memory usage).",
                            spec.name
                        ),
                    },
                ],
            ),
            Deploying {
                new_running,
                started_ago,
            } => (
                spec.desired,
                spec.desired - new_running,
                vec![
                    deployment(
                        "2",
                        DeploymentRole::Primary,
                        RolloutState::InProgress,
                        spec.revision,
                        new_running,
                        spec.desired - new_running,
                        0,
                        started_ago,
                        30,
                        Some("ECS deployment in progress."),
                    ),
                    deployment(
                        "1",
                        DeploymentRole::Active,
                        RolloutState::Completed,
                        spec.revision - 1,
                        spec.desired - new_running,
                        0,
                        0,
                        4 * 24 * HOUR,
                        4 * 24 * HOUR,
                        Some("ECS deployment completed."),
                    ),
                ],
                vec![ServiceEvent {
                    at: self.ago(started_ago - MINUTE),
                    message: format!(
                        "(service {}) has started {new_running} tasks: (task 0d4e6f8a1b3c5d7e9f20).",
                        spec.name
                    ),
                }],
            ),
            RolledBack {
                started_ago,
                failed_ago,
            } => (
                spec.desired,
                0,
                vec![deployment(
                    "3",
                    DeploymentRole::Primary,
                    RolloutState::Completed,
                    spec.revision,
                    spec.desired,
                    0,
                    0,
                    failed_ago,
                    failed_ago - 4 * MINUTE,
                    Some(
                        "ECS deployment circuit breaker: rolled back to the last completed deployment.",
                    ),
                )],
                vec![
                    steady(failed_ago - 4 * MINUTE),
                    ServiceEvent {
                        at: self.ago(failed_ago),
                        message: format!(
                            "(service {}) rolling back to deployment ecs-svc/{}1.",
                            spec.name,
                            stable_digits(spec.name)
                        ),
                    },
                    ServiceEvent {
                        at: self.ago(started_ago - 2 * MINUTE),
                        message: format!(
                            "(service {}) deployment ecs-svc/{}2 deployment failed: tasks failed to start.",
                            spec.name,
                            stable_digits(spec.name)
                        ),
                    },
                ],
            ),
        };
        ServiceStatus {
            service,
            status: "ACTIVE".to_owned(),
            desired: spec.desired,
            running,
            pending,
            deployments,
            events,
            target_groups: if spec.behind_load_balancer {
                vec![format!(
                    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{}/{:016x}",
                    spec.name,
                    hash(spec.name)
                )]
            } else {
                Vec::new()
            },
        }
    }

    fn alarm_from(&self, spec: &AlarmSpec) -> Alarm {
        Alarm {
            name: spec.name.to_owned(),
            kind: spec.kind,
            state: spec.state,
            reason: spec.reason.to_owned(),
            since: self.ago(spec.since_ago),
            service: spec.service.map(|(c, n)| ServiceRef::new(c, n)),
            metric: spec.metric.map(str::to_owned),
            place: None,
        }
    }

    /// The deployment history: the scenario's, with the deployments actions started.
    fn records(&self, spec: &Spec) -> Vec<DeploymentRecord> {
        self.acted_records(spec)
            .unwrap_or_else(|| self.scenario_records(spec))
    }

    fn scenario_records(&self, spec: &Spec) -> Vec<DeploymentRecord> {
        let service = ServiceRef::new(spec.cluster, spec.name);
        let record = |rev: u32, outcome, started: u64, finished: Option<u64>, reason: &str| {
            DeploymentRecord {
                service: service.clone(),
                task_definition: format!("{}:{rev}", spec.name),
                outcome,
                started_at: self.ago(started),
                finished_at: finished.map(|f| self.ago(f)),
                reason: (!reason.is_empty()).then(|| reason.to_owned()),
            }
        };
        match spec.scenario {
            Healthy { deployed_ago } | Degraded { deployed_ago, .. } => vec![record(
                spec.revision,
                DeploymentOutcome::Succeeded,
                deployed_ago + 4 * MINUTE,
                Some(deployed_ago),
                "",
            )],
            Down { .. } => vec![record(
                spec.revision,
                DeploymentOutcome::Succeeded,
                2 * 24 * HOUR,
                Some(2 * 24 * HOUR - 5 * MINUTE),
                "",
            )],
            Deploying { started_ago, .. } => vec![
                record(
                    spec.revision,
                    DeploymentOutcome::InProgress,
                    started_ago,
                    None,
                    "",
                ),
                record(
                    spec.revision - 1,
                    DeploymentOutcome::Succeeded,
                    4 * 24 * HOUR,
                    Some(4 * 24 * HOUR - 5 * MINUTE),
                    "",
                ),
            ],
            RolledBack {
                started_ago,
                failed_ago,
            } => vec![record(
                spec.revision + 1,
                DeploymentOutcome::RolledBack,
                started_ago,
                Some(failed_ago),
                "tasks failed to start",
            )],
        }
    }

    fn series(&self, spec: &Spec, kind: MetricKind, window: Duration) -> Option<MetricSeries> {
        let (unit, base, spread) = match kind {
            MetricKind::Cpu => (MetricUnit::Percent, spec.cpu, 6.0),
            MetricKind::Memory => (MetricUnit::Percent, spec.memory, 2.0),
            MetricKind::Errors if spec.behind_load_balancer => {
                let base = match spec.name {
                    "recommendations" => 180.0,
                    "checkout" => 14.0,
                    _ => 1.0 + f64::from(hash(spec.name) % 3),
                };
                (MetricUnit::PerMinute, base, base * 0.3)
            }
            MetricKind::Latency if spec.behind_load_balancer => {
                let base = match spec.name {
                    "checkout" => 2140.0,
                    "recommendations" => 5000.0,
                    _ => 90.0 + f64::from(hash(spec.name) % 160),
                };
                (MetricUnit::Milliseconds, base, base * 0.08)
            }
            MetricKind::Requests if spec.behind_load_balancer => (
                MetricUnit::PerMinute,
                300.0 + f64::from(hash(spec.name) % 2700),
                120.0,
            ),
            _ => return None,
        };
        let minutes = (window.as_secs() / MINUTE).clamp(1, 24 * 60);
        let now = self.clock.now();
        // Anchor points on whole minutes so the same minute always has the same value.
        let now_minute = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            / MINUTE;
        let points = (0..minutes)
            .rev()
            .map(|ago| {
                let minute = now_minute.saturating_sub(ago);
                let jitter = f64::from(hash(&format!("{}/{kind:?}/{minute}", spec.name)) % 1000)
                    / 1000.0
                    - 0.5;
                let value = if base == 0.0 {
                    0.0
                } else {
                    (base + jitter * spread).max(0.0)
                };
                let value = if unit == MetricUnit::Percent {
                    value.min(100.0)
                } else {
                    value
                };
                (
                    SystemTime::UNIX_EPOCH + Duration::from_secs(minute * MINUTE),
                    value,
                )
            })
            .collect();
        Some(MetricSeries { kind, unit, points })
    }
}

/// FNV-1a: a tiny, stable hash so demo data is identical across runs and platforms.
fn hash(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn stable_digits(name: &str) -> String {
    format!("{:010}", hash(name))
}

#[async_trait]
impl OpsSource for DemoFleet {
    fn name(&self) -> &'static str {
        "demo"
    }

    async fn catalog(&self) -> Result<Arc<Catalog>, OpsError> {
        Ok(self.catalog.clone())
    }

    async fn clusters(&self) -> Result<Arc<Vec<String>>, OpsError> {
        Ok(Arc::new(self.catalog.clusters.clone()))
    }

    async fn services(&self, cluster: &str) -> Result<Vec<ServiceStatus>, OpsError> {
        Ok(FLEET
            .iter()
            .filter(|s| s.cluster == cluster)
            .map(|s| self.status(s))
            .collect())
    }

    async fn service(&self, service: &ServiceRef) -> Result<Option<ServiceStatus>, OpsError> {
        Ok(self.spec(service).map(|s| self.status(s)))
    }

    async fn firing_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        let mut alarms: Vec<Alarm> = ALARMS
            .iter()
            .filter(|a| a.state == AlarmState::Alarm)
            .map(|a| self.alarm_from(a))
            .collect();
        alarms.sort_by_key(|a| std::cmp::Reverse(a.since));
        Ok(alarms)
    }

    async fn all_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        Ok(ALARMS.iter().map(|a| self.alarm_from(a)).collect())
    }

    async fn service_firing_alarms(&self, service: &ServiceRef) -> Result<Vec<Alarm>, OpsError> {
        // Only the service's own are built (the lex_turn bench's hot path), in the order
        // `firing_alarms` gives them.
        let theirs = |a: &&AlarmSpec| {
            a.state == AlarmState::Alarm
                && a.service
                    .is_some_and(|(c, n)| c == service.cluster && n == service.name)
        };
        let mut alarms: Vec<Alarm> = ALARMS
            .iter()
            .filter(theirs)
            .map(|a| self.alarm_from(a))
            .collect();
        alarms.sort_by_key(|a| std::cmp::Reverse(a.since));
        Ok(alarms)
    }

    async fn alarms_named(&self, prefix: &str) -> Result<Vec<Alarm>, OpsError> {
        Ok(ALARMS
            .iter()
            .filter(|a| a.name.starts_with(prefix))
            .map(|a| self.alarm_from(a))
            .collect())
    }

    async fn alarm(&self, name: &str) -> Result<Option<AlarmDetail>, OpsError> {
        Ok(ALARMS.iter().find(|a| a.name == name).map(|a| AlarmDetail {
            alarm: self.alarm_from(a),
            history: Some(
                a.history
                    .iter()
                    .map(|(ago, summary)| AlarmTransition {
                        at: self.ago(*ago),
                        summary: (*summary).to_owned(),
                    })
                    .collect(),
            ),
        }))
    }

    async fn metric(
        &self,
        service: &ServiceRef,
        kind: MetricKind,
        window: Duration,
    ) -> Result<Option<MetricSeries>, OpsError> {
        Ok(self
            .spec(service)
            .and_then(|spec| self.series(spec, kind, window)))
    }

    async fn alarm_chart(
        &self,
        name: &str,
        window: Duration,
    ) -> Result<Option<AlarmChart>, OpsError> {
        Ok(self.chart_of(name, window))
    }

    async fn deployments_since(
        &self,
        since: SystemTime,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        Ok(super::changed_since(
            FLEET.iter().flat_map(|s| self.records(s)),
            since,
        ))
    }

    async fn service_deployments(
        &self,
        service: &ServiceRef,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        Ok(self
            .spec(service)
            .map(|s| self.records(s))
            .unwrap_or_default())
    }

    async fn ready(&self) -> Result<(), OpsError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::FixedClock;

    fn fleet() -> DemoFleet {
        DemoFleet::new(Arc::new(FixedClock(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        )))
    }

    #[tokio::test]
    async fn the_demo_fleet_is_large_and_varied() {
        let fleet = fleet();
        let catalog = fleet.catalog().await.unwrap();
        assert_eq!(catalog.clusters, ["prod", "platform", "data"]);
        assert!(catalog.services.len() >= 30, "{}", catalog.services.len());
        let mut seen = std::collections::HashSet::new();
        for svc in &catalog.services {
            assert!(seen.insert(svc.clone()), "duplicate {svc}");
        }
        let alarms = fleet.firing_alarms().await.unwrap();
        assert!(alarms.iter().any(|a| a.kind == AlarmKind::Composite));
        assert!(
            alarms.windows(2).all(|w| w[0].since >= w[1].since),
            "newest first"
        );
    }

    #[tokio::test]
    async fn a_service_s_firing_alarms_are_exactly_its_share_of_the_firing_ones() {
        let clock: Arc<dyn Clock> = Arc::new(FixedClock(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        ));
        let demo = fleet();
        let cached = crate::ops::cache::CachedOps::new(
            Arc::new(fleet()),
            clock,
            crate::ops::cache::Settings::default(),
        );
        let all = demo.firing_alarms().await.unwrap();
        let catalog = demo.catalog().await.unwrap();
        let mut tied = 0;
        for service in &catalog.services {
            let expected: Vec<Alarm> = all
                .iter()
                .filter(|a| a.is_about(service))
                .cloned()
                .collect();
            tied += expected.len();
            assert_eq!(
                demo.service_firing_alarms(service).await.unwrap(),
                expected,
                "{service}"
            );
            assert_eq!(
                cached.service_firing_alarms(service).await.unwrap(),
                expected,
                "{service}"
            );
        }
        assert!(tied >= 2, "only {tied} firing alarms are tied to services");
        let stranger = ServiceRef::new("prod", "no-such-service");
        assert!(
            demo.service_firing_alarms(&stranger)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            cached
                .service_firing_alarms(&stranger)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn ages_are_relative_to_the_injected_clock() {
        let fleet = fleet();
        let now = fleet.clock.now();
        let alarm = fleet
            .alarm("checkout-p99-latency-high")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            crate::ops::age(now, alarm.alarm.since),
            Duration::from_secs(720)
        );
    }

    #[tokio::test]
    async fn metric_series_are_deterministic_and_unmapped_metrics_are_none() {
        let fleet = fleet();
        let checkout = ServiceRef::new("prod", "checkout");
        let a = fleet
            .metric(&checkout, MetricKind::Cpu, Duration::from_secs(3600))
            .await
            .unwrap();
        let b = fleet
            .metric(&checkout, MetricKind::Cpu, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.unwrap().points.len(), 60);
        let etl = ServiceRef::new("data", "etl-ingest");
        assert!(
            fleet
                .metric(&etl, MetricKind::Latency, Duration::from_secs(600))
                .await
                .unwrap()
                .is_none()
        );
    }
}
