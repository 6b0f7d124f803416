//! Operational facts about the fleet: the [`OpsSource`] trait, its domain types, and
//! the implementations behind it (the embedded [`demo`] fleet; `aws` comes next).
//!
//! Types here are what the dialog reasons about. They say nothing about the wire:
//! ECS and CloudWatch shapes are mapped into them by each implementation.

pub mod accounts;
pub mod alarm_chart;
pub mod aws;
pub mod cache;
pub mod demo;
pub mod freshness;
pub mod logs;
pub mod partial;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

pub use self::alarm_chart::AlarmChart;
pub use crate::clock::{Clock, FixedClock, ManualClock, SystemClock, age};

/// Where something lives when more than one account or region is read
/// (`OPSVOICE_ACCOUNTS_FILE`): the configured account's spoken name and the region.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Place {
    pub account: String,
    pub region: String,
}

impl Place {
    #[must_use]
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            region: region.into(),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// A service, identified by its cluster and name (ECS names are unique per cluster only),
/// and, with accounts configured, by its account and region: "checkout" in prod and
/// "checkout" in staging are two services.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ServiceRef {
    pub cluster: String,
    pub name: String,
    /// `None` without an accounts file: everything is the one account's, as it always was
    /// (and serialised exactly as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
}

impl ServiceRef {
    #[must_use]
    pub fn new(cluster: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            cluster: cluster.into(),
            name: name.into(),
            place: None,
        }
    }

    /// The same service, placed in an account and region.
    #[must_use]
    pub fn at(mut self, place: Place) -> Self {
        self.place = Some(place);
        self
    }

    /// The same service as its own account's source knows it (no place).
    #[must_use]
    pub fn unplaced(&self) -> Self {
        Self {
            cluster: self.cluster.clone(),
            name: self.name.clone(),
            place: None,
        }
    }

    /// The account's spoken name, when accounts are configured.
    #[must_use]
    pub fn account(&self) -> Option<&str> {
        self.place.as_ref().map(|p| p.account.as_str())
    }
}

impl fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(place) = &self.place {
            write!(f, "{place}/")?;
        }
        write!(f, "{}/{}", self.cluster, self.name)
    }
}

/// The cluster and service names the dialog can resolve spoken words against. (Alarm
/// names come from [`OpsSource::firing_alarms`], which every answer shares.)
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub clusters: Vec<String>,
    pub services: Vec<ServiceRef>,
}

/// `PRIMARY` is the deployment ECS is moving towards; `ACTIVE` ones are being drained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentRole {
    Primary,
    Active,
}

/// ECS `rolloutState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

/// One entry of a service's `deployments[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub role: DeploymentRole,
    pub rollout: RolloutState,
    pub rollout_reason: Option<String>,
    pub task_definition: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    pub failed_tasks: u32,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

/// One of a service's recent `events[]` ("has reached a steady state", "unable to place a task").
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    pub at: SystemTime,
    pub message: String,
}

/// What ECS says about one service right now.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceStatus {
    pub service: ServiceRef,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    pub deployments: Vec<Deployment>,
    /// Newest first.
    pub events: Vec<ServiceEvent>,
    /// ARNs of the load balancer target groups in front of the service (for 5xx,
    /// latency and request metrics).
    pub target_groups: Vec<String>,
}

impl ServiceStatus {
    /// The deployment ECS is rolling towards, if any.
    #[must_use]
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.role == DeploymentRole::Primary)
    }
}

/// CloudWatch alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Alarm,
    Ok,
    InsufficientData,
}

/// Metric alarms watch one metric; composite alarms combine other alarms with a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    Metric,
    Composite,
}

/// A CloudWatch alarm as the dialog needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub kind: AlarmKind,
    pub state: AlarmState,
    pub reason: String,
    /// `StateUpdatedTimestamp`: when the alarm entered its current state.
    pub since: SystemTime,
    /// The service the alarm is about, when it can be associated with one.
    pub service: Option<ServiceRef>,
    /// `Namespace/MetricName` for metric alarms.
    pub metric: Option<String>,
    /// The account and region it is in, with accounts configured.
    pub place: Option<Place>,
}

impl Alarm {
    /// Whether the alarm is tied to `service` (see [`OpsSource::service_alarms`]).
    #[must_use]
    pub fn is_about(&self, service: &ServiceRef) -> bool {
        self.service.as_ref() == Some(service)
    }
}

/// One transition from `DescribeAlarmHistory`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmTransition {
    pub at: SystemTime,
    pub summary: String,
}

/// An alarm plus its recent history, newest first (`None` when the history could not be
/// read; the answer then says nothing about it rather than something false).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDetail {
    pub alarm: Alarm,
    pub history: Option<Vec<AlarmTransition>>,
}

/// The metrics a user can ask about (the `metric` slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    Cpu,
    Memory,
    Errors,
    Latency,
    Requests,
}

impl MetricKind {
    pub const ALL: [MetricKind; 5] = [
        MetricKind::Cpu,
        MetricKind::Memory,
        MetricKind::Errors,
        MetricKind::Latency,
        MetricKind::Requests,
    ];

    /// The slot value used in Lex, Alexa and intents/.
    #[must_use]
    pub fn slot_value(self) -> &'static str {
        match self {
            MetricKind::Cpu => "cpu",
            MetricKind::Memory => "memory",
            MetricKind::Errors => "errors",
            MetricKind::Latency => "latency",
            MetricKind::Requests => "requests",
        }
    }

    /// Other ways people say it (the slot types in the generated Lex and Alexa models
    /// list the speakable ones as synonyms).
    #[must_use]
    pub fn synonyms(self) -> &'static [&'static str] {
        match self {
            MetricKind::Cpu => &[
                "c p u",
                "processor",
                "cpu utilisation",
                "compute",
                "cpu load",
                "busy",
                "loaded",
                "running hot",
                "hot",
            ],
            MetricKind::Memory => &["mem", "ram", "memory utilisation", "memory use", "heap"],
            MetricKind::Errors => &[
                "error",
                "error rate",
                "5xx",
                "five hundreds",
                "500s",
                "5xxs",
                "failures",
                "http errors",
                "erroring",
                "failure rate",
                "failing requests",
                "five x x",
                "five hundred errors",
                "throwing errors",
            ],
            MetricKind::Latency => &[
                "p99",
                "p 99",
                "p99 latency",
                "response time",
                "response times",
                "slowness",
                "slow",
                "sluggish",
                "laggy",
                "p ninety nine",
                "ninety ninth percentile",
            ],
            MetricKind::Requests => &[
                "request",
                "req s",
                "reqs",
                "traffic",
                "request rate",
                "throughput",
                "rps",
                "load",
                "qps",
                "q p s",
                "requests per second",
                "request volume",
                "request count",
                "hits",
                "reqs",
            ],
        }
    }

    /// Parses a slot value or a common spoken synonym ("5xx", "p99", "traffic").
    #[must_use]
    pub fn parse(spoken: &str) -> Option<Self> {
        let s = spoken.trim().to_ascii_lowercase();
        let s = s
            .trim_end_matches(" usage")
            .trim_end_matches(" utilization");
        MetricKind::ALL
            .into_iter()
            .find(|m| m.slot_value() == s || m.synonyms().contains(&s))
    }
}

/// The unit a metric's values are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    Percent,
    Milliseconds,
    /// A count per minute (errors, requests).
    PerMinute,
}

/// A metric series over a window, oldest point first.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    pub kind: MetricKind,
    pub unit: MetricUnit,
    pub points: Vec<(SystemTime, f64)>,
}

impl MetricSeries {
    /// The most recent value, if there is any data.
    #[must_use]
    pub fn latest(&self) -> Option<f64> {
        self.points.last().map(|(_, v)| *v)
    }

    /// The largest value in the window.
    #[must_use]
    pub fn peak(&self) -> Option<f64> {
        self.points.iter().map(|(_, v)| *v).reduce(f64::max)
    }

    /// The mean over the window.
    #[must_use]
    pub fn mean(&self) -> Option<f64> {
        if self.points.is_empty() {
            return None;
        }
        let sum: f64 = self.points.iter().map(|(_, v)| *v).sum();
        Some(sum / self.points.len() as f64)
    }
}

/// How a deployment in the history ended (or where it is now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentOutcome {
    InProgress,
    Succeeded,
    Failed,
    RolledBack,
}

/// One deployment from the history (`ListServiceDeployments`), for "what changed".
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRecord {
    pub service: ServiceRef,
    pub task_definition: String,
    pub outcome: DeploymentOutcome,
    pub started_at: SystemTime,
    pub finished_at: Option<SystemTime>,
    pub reason: Option<String>,
}

/// The deployments that belong in "what changed since `since`": started or finished since
/// then, or still running. Newest first.
#[must_use]
pub fn changed_since(
    records: impl IntoIterator<Item = DeploymentRecord>,
    since: SystemTime,
) -> Vec<DeploymentRecord> {
    let mut records: Vec<DeploymentRecord> = records
        .into_iter()
        .filter(|r| r.started_at >= since || r.finished_at.is_none_or(|f| f >= since))
        .collect();
    records.sort_by_key(|r| std::cmp::Reverse(r.started_at));
    records
}

/// Why the source could not answer. Cheap to clone, so one failed upstream call can be
/// handed to every caller that was waiting on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OpsError {
    #[error("{api} is unavailable")]
    Unavailable {
        api: &'static str,
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    #[error("{api} throttled the request")]
    Throttled { api: &'static str },
    #[error("{api} did not answer within {after:?}")]
    Timeout { api: &'static str, after: Duration },
}

impl OpsError {
    /// Whether the upstream was there but did not answer in time, rather than failing:
    /// the user hears "CloudWatch is slow right now", not "I can't reach CloudWatch".
    #[must_use]
    pub fn is_slow(&self) -> bool {
        matches!(self, OpsError::Timeout { .. })
    }

    /// Which upstream system failed, as the user would call it ("ECS", "CloudWatch").
    #[must_use]
    pub fn system(&self) -> &'static str {
        let api = match self {
            OpsError::Unavailable { api, .. }
            | OpsError::Throttled { api }
            | OpsError::Timeout { api, .. } => api,
        };
        // SDK calls are named "service:Operation"; the cache names what it fetched.
        if api.starts_with("logs:") {
            return "CloudWatch Logs";
        }
        let cloudwatch = api.starts_with("cloudwatch")
            || matches!(
                *api,
                "firing_alarms"
                    | "all_alarms"
                    | "alarms_named"
                    | "alarm_index"
                    | "alarm"
                    | "alarm_history"
                    | "metric"
                    | "alarm_chart"
            );
        if cloudwatch { "CloudWatch" } else { "ECS" }
    }
}

/// The operational data opsvoice answers from.
///
/// Implementations return facts, never text. Each call is a single logical question;
/// batching, paging and caching are the implementation's business.
#[async_trait]
pub trait OpsSource: Send + Sync + fmt::Debug {
    /// What this source is, for logs and `/readyz` ("demo", "aws").
    fn name(&self) -> &'static str;

    /// Every cluster, service and alarm name the dialog may resolve spoken words against.
    ///
    /// # Errors
    /// When the upstream listing fails.
    async fn catalog(&self) -> Result<Arc<Catalog>, OpsError>;

    /// The clusters watched (cheaper than the whole catalog).
    ///
    /// # Errors
    /// When ECS cannot be reached.
    async fn clusters(&self) -> Result<Arc<Vec<String>>, OpsError>;

    /// The current state of every service in `cluster`.
    ///
    /// # Errors
    /// When ECS cannot be reached.
    async fn services(&self, cluster: &str) -> Result<Vec<ServiceStatus>, OpsError>;

    /// The current state of one service, `None` if it does not exist.
    ///
    /// # Errors
    /// When ECS cannot be reached.
    async fn service(&self, service: &ServiceRef) -> Result<Option<ServiceStatus>, OpsError>;

    /// Alarms currently in `ALARM`, metric and composite, newest first.
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn firing_alarms(&self) -> Result<Vec<Alarm>, OpsError>;

    /// Every alarm, metric and composite, in any state, each tied to its service where it
    /// can be. This reads the account's whole alarm list, page after page (paced, see
    /// `aws`): `models build --from-backend` uses it, offline, and the background refresh
    /// keeps an index of alarm names from it (renewed with the catalog, see
    /// [`Self::indexed_alarms`]). No answer does.
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn all_alarms(&self) -> Result<Vec<Alarm>, OpsError>;

    /// The alarms firing for `service`: a filter over [`Self::firing_alarms`], so a cache
    /// in front shares one `StateValue=ALARM` listing among every service and question,
    /// whatever the number of alarms in the account.
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn service_firing_alarms(&self, service: &ServiceRef) -> Result<Vec<Alarm>, OpsError> {
        Ok(self
            .firing_alarms()
            .await?
            .into_iter()
            .filter(|a| a.is_about(service))
            .collect())
    }

    /// The alarms, in any state, whose names start with `prefix` (case as CloudWatch
    /// stores it): how a spoken alarm name that is not firing is found without reading
    /// every alarm (`AlarmNamePrefix`). What to rely on is their names, services and
    /// places: a cache may answer from its index of alarm names ([`Self::indexed_alarms`]),
    /// whose states are as old as the index; an alarm's state now is [`Self::alarm`]'s.
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn alarms_named(&self, prefix: &str) -> Result<Vec<Alarm>, OpsError>;

    /// The alarms whose names start with `prefix`, from the index of alarm names the
    /// background refresh keeps (every alarm's name, service and place, renewed with the
    /// catalog), without any call: `None` when there is no fresh index (no refresh has made
    /// one, or the source keeps none). States are as old as the index.
    fn indexed_alarms(&self, prefix: &str) -> Option<Vec<Alarm>> {
        let _ = prefix;
        None
    }

    /// One alarm with its recent history, `None` if it does not exist.
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn alarm(&self, name: &str) -> Result<Option<AlarmDetail>, OpsError>;

    /// The recent history of the alarm `name` alone (its state changes of the last day),
    /// `None` when it could not be read: what a cache asks for an alarm the firing listing
    /// already gave it. The default reads the whole alarm.
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn alarm_history(&self, name: &str) -> Result<Option<Vec<AlarmTransition>>, OpsError> {
        Ok(self.alarm(name).await?.and_then(|d| d.history))
    }

    /// One alarm with its recent history, in the account and region `place` (with
    /// accounts, an alarm name may be in several): `None` if it is not there. A source
    /// over one account has no places, and answers as [`Self::alarm`].
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn alarm_at(&self, name: &str, place: &Place) -> Result<Option<AlarmDetail>, OpsError> {
        let _ = place;
        self.alarm(name).await
    }

    /// A metric of a service over the trailing `window`. `None` when the metric is not
    /// mapped for that service (e.g. no load balancer, so no 5xx or latency).
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn metric(
        &self,
        service: &ServiceRef,
        kind: MetricKind,
        window: Duration,
    ) -> Result<Option<MetricSeries>, OpsError>;

    /// Deployments started or finished since `since`, across every cluster, newest first.
    ///
    /// # Errors
    /// When ECS cannot be reached.
    async fn deployments_since(&self, since: SystemTime)
    -> Result<Vec<DeploymentRecord>, OpsError>;

    /// The recent deployments of one service, newest first (rollbacks included).
    ///
    /// # Errors
    /// When ECS cannot be reached.
    async fn service_deployments(
        &self,
        service: &ServiceRef,
    ) -> Result<Vec<DeploymentRecord>, OpsError>;

    /// How this source's deployments follow from a service's status, when they are exactly
    /// that (ECS: DescribeServices' deployments, with their `createdAt` and `updatedAt`, and
    /// the rollbacks its events tell): a cache then answers [`Self::deployments_since`] and
    /// [`Self::service_deployments`] from the statuses it keeps, with no call of their own.
    /// `None` (the default) when the source keeps a history of its own.
    fn history_of_status(&self) -> Option<fn(&ServiceStatus) -> Vec<DeploymentRecord>> {
        None
    }

    /// The configured accounts' spoken names (`OPSVOICE_ACCOUNTS_FILE`), in the file's
    /// order; empty with one account and no file (then nothing has a [`Place`]).
    fn accounts(&self) -> Vec<String> {
        Vec::new()
    }

    /// Drops what is cached about `service`: an action of ours just changed it, and the
    /// next question ("how is the restart going?") must not hear how it was. A source
    /// without a cache has nothing to drop.
    fn forget_service(&self, _service: &ServiceRef) {}

    /// Drops what is cached about the alarm `name` (it was just silenced or unsilenced).
    fn forget_alarm(&self, _name: &str) {}

    /// Charts (issue 33; everything charts add to this trait is here): the series an alarm
    /// evaluates over the trailing `window`, its threshold and its time in `ALARM`.
    /// `None` when there is no such alarm, or it watches no metric (a composite); the
    /// default, for a source that keeps no alarm metrics, is always `None` (a card then
    /// goes without a chart). A service's own series is [`Self::metric`], its last
    /// deployment [`Self::service_deployments`].
    ///
    /// # Errors
    /// When CloudWatch cannot be reached.
    async fn alarm_chart(
        &self,
        name: &str,
        window: Duration,
    ) -> Result<Option<AlarmChart>, OpsError> {
        let _ = (name, window);
        Ok(None)
    }

    /// Fetches again, ahead of any question, what the answers need (the catalog, the
    /// firing alarms, every cluster's service statuses, the index of alarm names) when it is
    /// due to go stale, so a question finds it warm. A fetch that fails keeps the last good
    /// data. A source without a cache has nothing to do.
    ///
    /// # Errors
    /// The first upstream failure; the data it would have renewed is kept.
    async fn warm(&self) -> Result<(), OpsError> {
        Ok(())
    }

    /// Whether the source can answer at all (for `/readyz`).
    ///
    /// # Errors
    /// The reason it cannot.
    async fn ready(&self) -> Result<(), OpsError>;
}
