//! The live backend: ECS and CloudWatch through the AWS SDK.
//!
//! Every SDK call goes through [`AwsOps::call`], which names the API, times it in the
//! request's trace span and in `/metrics`, counts it (tests read the counts), and maps SDK
//! errors to [`OpsError`] (throttling and timeouts kept apart, because the cache answers
//! them differently from a hard failure).
//!
//! This layer does no caching; [`super::cache::CachedOps`] sits in front of it.

mod chart;
mod cloudwatch;
pub mod credentials;
mod ecs;
mod flights;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::Instrument;

use super::{
    Alarm, AlarmChart, AlarmDetail, AlarmTransition, Catalog, Clock, DeploymentRecord, MetricKind,
    MetricSeries, OpsError, OpsSource, ServiceRef, ServiceStatus,
};

pub(crate) use ecs::{service_status, task_definition_name};

pub use crate::aws::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT, sdk_config, timeouts};

/// How alarms are tied to services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Association {
    /// After the `ClusterName`/`ServiceName` dimensions, also match alarm names that start
    /// with `<service>-` or `<cluster>-<service>-` (composite alarms have no dimensions).
    pub by_name_prefix: bool,
}

impl Default for Association {
    fn default() -> Self {
        Self {
            by_name_prefix: true,
        }
    }
}

/// Upstream calls made, by API name ("ecs:DescribeServices").
#[derive(Debug, Default)]
pub struct CallCounts(Mutex<BTreeMap<&'static str, u64>>);

impl CallCounts {
    pub(crate) fn add(&self, api: &'static str) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(api)
            .or_default() += 1;
    }

    /// A copy of the counts so far.
    #[must_use]
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Calls made to `api` so far.
    #[must_use]
    pub fn get(&self, api: &str) -> u64 {
        self.snapshot().get(api).copied().unwrap_or(0)
    }
}

/// ECS and CloudWatch behind [`OpsSource`].
#[derive(Debug, Clone)]
pub struct AwsOps {
    ecs: aws_sdk_ecs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    clusters: Option<Vec<String>>,
    /// Cluster globs (an account's `clusters`): only listed clusters that match are watched.
    cluster_globs: Option<globset::GlobSet>,
    association: Association,
    clock: Arc<dyn Clock>,
    calls: Arc<CallCounts>,
    /// Services seen in listings, for associating alarms by name prefix.
    known: Arc<RwLock<Vec<ServiceRef>>>,
    /// The configured account read (its spoken name), for `/metrics`; `None` without
    /// accounts.
    account: Option<Arc<str>>,
    /// The catalog's listing while it is under way (joined, not made twice).
    catalogs: Arc<flights::Flights<(), Result<Arc<Catalog>, OpsError>>>,
    /// Each cluster's ListServices while under way (the catalog's and a cluster's
    /// services' share one).
    listings: Arc<flights::Flights<String, Result<Vec<ServiceRef>, OpsError>>>,
}

impl AwsOps {
    /// A backend over the given clients. `clusters` limits what is watched (`None`: all).
    #[must_use]
    pub fn new(
        ecs: aws_sdk_ecs::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        clusters: Option<Vec<String>>,
        association: Association,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            ecs,
            cloudwatch,
            clusters,
            cluster_globs: None,
            association,
            clock,
            calls: Arc::default(),
            known: Arc::default(),
            account: None,
            catalogs: Arc::default(),
            listings: Arc::default(),
        }
    }

    /// A backend with clients built from `sdk`.
    #[must_use]
    pub fn from_config(
        sdk: &SdkConfig,
        clusters: Option<Vec<String>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::new(
            aws_sdk_ecs::Client::new(sdk),
            aws_sdk_cloudwatch::Client::new(sdk),
            clusters,
            Association::default(),
            clock,
        )
    }

    /// The same backend, watching only the listed clusters that match `globs`.
    #[must_use]
    pub fn watching(mut self, globs: globset::GlobSet) -> Self {
        self.cluster_globs = Some(globs);
        self
    }

    /// The same backend, counting its calls in `calls` (shared by every account's backend,
    /// so one count covers them all).
    #[must_use]
    pub fn counting_in(mut self, calls: Arc<CallCounts>) -> Self {
        self.calls = calls;
        self
    }

    /// The upstream call counter.
    #[must_use]
    pub fn calls(&self) -> Arc<CallCounts> {
        self.calls.clone()
    }

    /// The same backend, reading the configured account `name`: its calls carry the
    /// `account` label in `/metrics` (bounded by the accounts file).
    #[must_use]
    pub fn in_account(mut self, name: &str) -> Self {
        self.account = Some(name.into());
        self
    }

    /// Runs one SDK call: counted, timed, traced, and its error classified.
    async fn call<T, O, R>(
        &self,
        api: &'static str,
        request: impl Future<Output = Result<T, SdkError<O, R>>>,
    ) -> Result<T, OpsError>
    where
        O: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let started = Instant::now();
        let result = observed_in(&self.calls, api, self.account.as_deref(), request).await;
        result.map_err(|error| classify(api, error, started.elapsed()))
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    fn remember(&self, services: &[ServiceRef]) {
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        for s in services {
            if !known.contains(s) {
                known.push(s.clone());
            }
        }
    }

    fn known_services(&self) -> Vec<ServiceRef> {
        self.known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Runs one SDK call counted in `calls`, timed (the trace span, `/metrics`) and traced (a
/// failure logged with its code and cause), and hands back the SDK's own result. The reads
/// of [`AwsOps`] go through here, and so do the role and the writes of the acting layer
/// (`act::effect::aws`), which must tell errors apart more finely than [`OpsError`] does.
pub(crate) async fn observed<T, O, R>(
    calls: &CallCounts,
    api: &'static str,
    request: impl Future<Output = Result<T, SdkError<O, R>>>,
) -> Result<T, SdkError<O, R>>
where
    O: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    observed_in(calls, api, None, request).await
}

/// [`observed`], in a configured `account` (its spoken name): the `/metrics` series carry
/// it as their `account` label. Without accounts (`None`) the series are exactly as
/// before, without the label.
pub(crate) async fn observed_in<T, O, R>(
    calls: &CallCounts,
    api: &'static str,
    account: Option<&str>,
    request: impl Future<Output = Result<T, SdkError<O, R>>>,
) -> Result<T, SdkError<O, R>>
where
    O: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    calls.add(api);
    let started = Instant::now();
    let span = tracing::info_span!("upstream", api, elapsed_ms = tracing::field::Empty);
    let result = request.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    span.record("elapsed_ms", elapsed.as_millis() as u64);
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) if is_throttle(e.code()) => "throttled",
        Err(_) => "error",
    };
    record_call(api, outcome, account, elapsed);
    if let Err(error) = &result {
        tracing::warn!(parent: &span, api, code = error.code().unwrap_or("-"), error = %crate::error::ErrorChain(error), "upstream call failed");
    }
    result
}

/// One upstream call in `/metrics`: `opsvoice_upstream_calls_total{api,outcome}` and
/// `opsvoice_upstream_seconds{api}`, with `account` too when it was made in a configured
/// account.
pub(crate) fn record_call(
    api: &'static str,
    outcome: &'static str,
    account: Option<&str>,
    elapsed: Duration,
) {
    match account {
        None => {
            metrics::counter!("opsvoice_upstream_calls_total", "api" => api, "outcome" => outcome)
                .increment(1);
            metrics::histogram!("opsvoice_upstream_seconds", "api" => api)
                .record(elapsed.as_secs_f64());
        }
        Some(account) => {
            metrics::counter!("opsvoice_upstream_calls_total", "api" => api, "outcome" => outcome, "account" => account.to_owned())
                .increment(1);
            metrics::histogram!("opsvoice_upstream_seconds", "api" => api, "account" => account.to_owned())
                .record(elapsed.as_secs_f64());
        }
    }
}

/// Whether an error code is AWS throttling (each service names it its own way).
pub(crate) fn is_throttle(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "Throttling"
                | "ThrottlingException"
                | "ThrottledException"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "RequestThrottled"
                | "RequestThrottledException"
                | "LimitExceededException"
        )
    )
}

/// A failed read as [`OpsError`]: throttled, slow (a timeout, or `elapsed` at the
/// deadline), or unavailable.
pub(crate) fn classify<O, R>(
    api: &'static str,
    error: SdkError<O, R>,
    elapsed: Duration,
) -> OpsError
where
    O: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_throttle(error.code()) {
        return OpsError::Throttled { api };
    }
    // An attempt or operation timeout, or a connection that timed out, is an upstream
    // that was there but slow; so is anything that ran into the deadline.
    let timed_out = match &error {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_timeout(),
        _ => false,
    };
    if timed_out || elapsed + Duration::from_millis(50) >= OPERATION_TIMEOUT {
        return OpsError::Timeout {
            api,
            after: elapsed,
        };
    }
    OpsError::Unavailable {
        api,
        source: Arc::new(error),
    }
}

#[async_trait]
impl OpsSource for AwsOps {
    fn name(&self) -> &'static str {
        "aws"
    }

    async fn catalog(&self) -> Result<Arc<Catalog>, OpsError> {
        // One listing at a time: the catalog asked for again while it is being listed (a
        // question and the firing alarms' names, say) joins the one under way.
        let me = self.clone();
        self.catalogs
            .join_or_start((), move || {
                use futures_util::FutureExt as _;
                async move {
                    let clusters = me.cluster_names().await?;
                    let services: Vec<ServiceRef> = futures_util::future::try_join_all(
                        clusters.iter().map(|c| me.service_names(c)),
                    )
                    .await?
                    .into_iter()
                    .flatten()
                    .collect();
                    Ok(Arc::new(Catalog { clusters, services }))
                }
                .boxed()
            })
            .await
    }

    async fn clusters(&self) -> Result<Arc<Vec<String>>, OpsError> {
        Ok(Arc::new(self.cluster_names().await?))
    }

    async fn services(&self, cluster: &str) -> Result<Vec<ServiceStatus>, OpsError> {
        let names = self.service_names(cluster).await?;
        let names: Vec<String> = names.into_iter().map(|s| s.name).collect();
        self.describe_services(cluster, &names).await
    }

    async fn service(&self, service: &ServiceRef) -> Result<Option<ServiceStatus>, OpsError> {
        Ok(self
            .describe_services(&service.cluster, std::slice::from_ref(&service.name))
            .await?
            .into_iter()
            .next())
    }

    async fn firing_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        let mut alarms = self
            .describe_alarms(cloudwatch::Filter::State(
                aws_sdk_cloudwatch::types::StateValue::Alarm,
            ))
            .await?;
        alarms.sort_by_key(|a| std::cmp::Reverse(a.since));
        Ok(alarms)
    }

    async fn all_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        self.describe_alarms(cloudwatch::Filter::Everything).await
    }

    async fn alarms_named(&self, prefix: &str) -> Result<Vec<Alarm>, OpsError> {
        if prefix.is_empty() {
            // An empty AlarmNamePrefix would be every alarm.
            return Ok(Vec::new());
        }
        self.describe_alarms(cloudwatch::Filter::NamePrefix(prefix.to_owned()))
            .await
    }

    async fn alarm(&self, name: &str) -> Result<Option<AlarmDetail>, OpsError> {
        self.alarm_detail(name).await
    }

    async fn alarm_history(&self, name: &str) -> Result<Option<Vec<AlarmTransition>>, OpsError> {
        Ok(self.history(name).await)
    }

    fn history_of_status(&self) -> Option<fn(&ServiceStatus) -> Vec<DeploymentRecord>> {
        Some(ecs::history)
    }

    async fn metric(
        &self,
        service: &ServiceRef,
        kind: MetricKind,
        window: Duration,
    ) -> Result<Option<MetricSeries>, OpsError> {
        self.metric_series(service, kind, window).await
    }

    async fn alarm_chart(
        &self,
        name: &str,
        window: Duration,
    ) -> Result<Option<AlarmChart>, OpsError> {
        self.chart_of(name, window).await
    }

    async fn deployments_since(
        &self,
        since: SystemTime,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        let clusters = self.cluster_names().await?;
        let fleets =
            futures_util::future::try_join_all(clusters.iter().map(|c| self.services(c))).await?;
        Ok(super::changed_since(
            fleets.iter().flatten().flat_map(ecs::history),
            since,
        ))
    }

    async fn service_deployments(
        &self,
        service: &ServiceRef,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        Ok(self
            .service(service)
            .await?
            .map(|s| ecs::history(&s))
            .unwrap_or_default())
    }

    async fn ready(&self) -> Result<(), OpsError> {
        self.call(
            "ecs:ListClusters",
            self.ecs.list_clusters().max_results(1).send(),
        )
        .await
        .map(|_| ())
    }
}
