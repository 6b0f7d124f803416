//! The cache in front of any [`OpsSource`]:
//! - **TTL per kind of data**: alarms and task counts go stale in seconds, the catalog of
//!   names in minutes.
//! - **Single-flight**: concurrent identical questions share one upstream call. A
//!   conference room of devices asking "any alarms?" at once costs one DescribeAlarms.
//! - **Stale-while-error**: when the upstream fails (down, throttled, too slow), the last
//!   good value is served, and its age is recorded in [`super::freshness`] so the answer
//!   says "this is from 2 minutes ago". After a failure, stale data is served without
//!   retrying for a short back-off, so an outage is not hammered.
//! - **Deadline**: every upstream fetch is cut off after a budget shorter than the answer
//!   deadline, so there is always time left to answer from stale data.
//! - **Kept warm** ([`OpsSource::warm`], `serve`'s background refresh): the catalog, the
//!   firing alarms, every cluster's service statuses and an index of alarm names are
//!   fetched again at half their TTL, so a question finds what it needs here: a fleet
//!   summary, "what changed" (the deployments DescribeServices reports) and a service's
//!   health and deployments are answered from the statuses kept, an alarm the firing listing
//!   has needs only its history, and an alarm named is looked for in the index.
//!
//! Freshness is measured with the injected clock, so tests move time instead of sleeping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use super::{
    Alarm, AlarmChart, AlarmDetail, AlarmTransition, Catalog, Clock, DeploymentRecord, MetricKind,
    MetricSeries, OpsError, OpsSource, ServiceRef, ServiceStatus, age, freshness,
};

/// The most the listing behind the index of alarm names may take: it reads every alarm,
/// paced (a page every 250 ms: 4,000 alarms take about 12 s), in the background, with
/// nobody waiting on it; less than the half catalog TTL it is renewed at, so a renewal never
/// overlaps the last.
pub const INDEX_DEADLINE: Duration = Duration::from_secs(120);

/// After the listing behind the index failed, how long the refresh waits before listing
/// again (not every few seconds: a failing listing of thousands of alarms must not become
/// a steady load).
pub const INDEX_RETRY: Duration = Duration::from_secs(60);

/// How long each kind of data is fresh.
#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    pub catalog: Duration,
    pub services: Duration,
    pub alarms: Duration,
    pub alarm_detail: Duration,
    pub metrics: Duration,
    pub deployments: Duration,
}

impl Default for Ttls {
    fn default() -> Self {
        Self {
            catalog: Duration::from_secs(300),
            services: Duration::from_secs(15),
            alarms: Duration::from_secs(15),
            alarm_detail: Duration::from_secs(30),
            metrics: Duration::from_secs(60),
            deployments: Duration::from_secs(30),
        }
    }
}

/// Cache settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub ttls: Ttls,
    /// The most one upstream fetch may take before it counts as failed.
    pub upstream_deadline: Duration,
    /// After a failure, serve stale data for this long before trying upstream again.
    pub failure_backoff: Duration,
    /// Stale data older than this is not served; the answer says what is unavailable.
    pub max_stale: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ttls: Ttls::default(),
            upstream_deadline: Duration::from_millis(2500),
            failure_backoff: Duration::from_secs(5),
            max_stale: Duration::from_secs(6 * 3600),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Catalog,
    Clusters,
    Services(String),
    Service(ServiceRef),
    Firing,
    /// Alarms by name prefix, as asked for by AlarmDetail.
    AlarmsNamed(String),
    /// Every alarm (its name, service and place; states as listed then), kept by the
    /// background refresh to find a named alarm without asking.
    AlarmIndex,
    Alarm(String),
    /// An alarm's history alone (the alarm itself is in the firing listing).
    AlarmHistory(String),
    Metric(ServiceRef, MetricKind, u64),
    /// An alarm's chart data over a window (seconds).
    AlarmChart(String, u64),
    /// Deployments since a time, bucketed to the minute so repeats share an entry.
    DeploymentsSince(u64),
    ServiceDeployments(ServiceRef),
}

impl Key {
    fn kind(&self) -> &'static str {
        match self {
            Key::Catalog => "catalog",
            Key::Clusters => "clusters",
            Key::Services(_) => "services",
            Key::Service(_) => "service",
            Key::Firing => "firing_alarms",
            Key::AlarmsNamed(_) => "alarms_named",
            Key::AlarmIndex => "alarm_index",
            Key::Alarm(_) => "alarm",
            Key::AlarmHistory(_) => "alarm_history",
            Key::Metric(..) => "metric",
            Key::AlarmChart(..) => "alarm_chart",
            Key::DeploymentsSince(_) => "deployments_since",
            Key::ServiceDeployments(_) => "service_deployments",
        }
    }

    /// Which system the data comes from, as the user would call it.
    fn system(&self) -> &'static str {
        match self {
            Key::Firing
            | Key::AlarmsNamed(_)
            | Key::AlarmIndex
            | Key::Alarm(_)
            | Key::AlarmHistory(_)
            | Key::Metric(..)
            | Key::AlarmChart(..) => "CloudWatch",
            _ => "ECS",
        }
    }
}

#[derive(Debug, Clone)]
enum Value {
    Catalog(Arc<Catalog>),
    Clusters(Arc<Vec<String>>),
    Services(Arc<Vec<ServiceStatus>>),
    Service(Arc<Option<ServiceStatus>>),
    Alarms(Arc<Vec<Alarm>>),
    Alarm(Arc<Option<AlarmDetail>>),
    History(Arc<Option<Vec<AlarmTransition>>>),
    Metric(Arc<Option<MetricSeries>>),
    AlarmChart(Arc<Option<AlarmChart>>),
    Records(Arc<Vec<DeploymentRecord>>),
}

#[derive(Debug, Clone)]
struct Entry {
    value: Value,
    fetched_at: SystemTime,
}

type Flight = Shared<BoxFuture<'static, Result<Value, OpsError>>>;

/// The upstream fetch of the catalog: what a question and the background refresh share.
fn fetch_catalog(ops: Arc<dyn OpsSource>) -> BoxFuture<'static, Result<Value, OpsError>> {
    async move { ops.catalog().await.map(Value::Catalog) }.boxed()
}

/// The upstream fetch of the firing alarms, as [`fetch_catalog`].
fn fetch_firing(ops: Arc<dyn OpsSource>) -> BoxFuture<'static, Result<Value, OpsError>> {
    async move {
        ops.firing_alarms()
            .await
            .map(|a| Value::Alarms(Arc::new(a)))
    }
    .boxed()
}

/// The upstream fetch of a cluster's service statuses: what FleetSummary, "what changed" and
/// a service's health share, and the background refresh renews.
fn fetch_services(
    ops: Arc<dyn OpsSource>,
    cluster: String,
) -> BoxFuture<'static, Result<Value, OpsError>> {
    async move {
        ops.services(&cluster)
            .await
            .map(|s| Value::Services(Arc::new(s)))
    }
    .boxed()
}

/// The upstream fetch of every alarm, for the index of alarm names.
fn fetch_index(ops: Arc<dyn OpsSource>) -> BoxFuture<'static, Result<Value, OpsError>> {
    async move { ops.all_alarms().await.map(|a| Value::Alarms(Arc::new(a))) }.boxed()
}

/// An [`OpsSource`] with caching, single-flight, stale-while-error and deadlines.
pub struct CachedOps {
    inner: Arc<dyn OpsSource>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    store: moka::sync::Cache<Key, Entry>,
    flights: Arc<Mutex<HashMap<Key, (u64, Flight)>>>,
    /// When each key last failed, and whether it failed by being slow.
    failures: moka::sync::Cache<Key, (SystemTime, bool)>,
    next_flight: AtomicU64,
    /// The configured account cached (its spoken name), for `/metrics`; `None` without
    /// accounts.
    account: Option<Arc<str>>,
}

impl std::fmt::Debug for CachedOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedOps")
            .field("inner", &self.inner.name())
            .field("entries", &self.store.entry_count())
            .finish_non_exhaustive()
    }
}

macro_rules! unwrap_value {
    ($value:expr, $variant:ident) => {
        match $value {
            Value::$variant(v) => v,
            other => unreachable!("cache key and value kinds disagree: {other:?}"),
        }
    };
}

impl CachedOps {
    /// The firing alarms, from the cache, shared by every question that needs them.
    async fn shared_firing(&self) -> Result<Arc<Vec<Alarm>>, OpsError> {
        let v = self.get(Key::Firing, fetch_firing).await?;
        Ok(unwrap_value!(v, Alarms))
    }

    /// The value stored for `key` while it is within its TTL, without asking upstream.
    fn stored_fresh(&self, key: &Key) -> Option<Value> {
        let entry = self.store.get(key)?;
        (age(self.clock.now(), entry.fetched_at) < self.ttl(key)).then_some(entry.value)
    }

    /// A cluster's service statuses, from the cache, shared (not copied).
    async fn shared_services(&self, cluster: &str) -> Result<Arc<Vec<ServiceStatus>>, OpsError> {
        let c = cluster.to_owned();
        let v = self
            .get(Key::Services(c.clone()), move |ops| fetch_services(ops, c))
            .await?;
        Ok(unwrap_value!(v, Services))
    }

    /// `service`'s status from its cluster's statuses kept, stale but within `max_stale`,
    /// its age noted for the answer, when asking for it failed with `error`.
    fn stale_status(&self, service: &ServiceRef, error: &OpsError) -> Option<ServiceStatus> {
        let key = Key::Services(service.cluster.clone());
        let entry = self.store.get(&key)?;
        let stale_for = age(self.clock.now(), entry.fetched_at);
        if stale_for > self.settings.max_stale {
            return None;
        }
        let Value::Services(statuses) = entry.value else {
            return None;
        };
        let status = statuses.iter().find(|s| s.service == *service)?.clone();
        freshness::note(key.system(), stale_for, error.is_slow());
        self.count(&Key::Service(service.clone()), "stale");
        Some(status)
    }

    /// The clusters of the cached catalog, however old (none before the first listing).
    fn known_clusters(&self) -> Vec<String> {
        match self.store.get(&Key::Catalog).map(|e| e.value) {
            Some(Value::Catalog(catalog)) => catalog.clusters.clone(),
            _ => Vec::new(),
        }
    }

    /// Renews the service statuses of each of `clusters` that is due, all at once (each
    /// cluster's DescribeServices a few at a time, as for a question).
    async fn renew_services(&self, clusters: Vec<String>) -> Result<(), OpsError> {
        let renewals = clusters.into_iter().map(|c| {
            let key = Key::Services(c.clone());
            self.renew(key, move |ops| fetch_services(ops, c))
        });
        futures_util::future::join_all(renewals)
            .await
            .into_iter()
            .find_map(Result::err)
            .map_or(Ok(()), Err)
    }

    /// Renews the index of alarm names when it is due. The first one is waited for (a
    /// refresh then leaves everything warm); later ones are left to run in the background
    /// (a big account's alarms are listed paced, for seconds), so they never hold up the
    /// renewal of what goes stale in seconds. A renewal that fails keeps the index it had.
    async fn renew_index(&self) -> Result<(), OpsError> {
        let key = Key::AlarmIndex;
        let now = self.clock.now();
        if let Some((failed_at, _)) = self.failures.get(&key)
            && age(now, failed_at) < INDEX_RETRY
        {
            return Ok(());
        }
        let Some(entry) = self.store.get(&key) else {
            return self.renew(key, fetch_index).await.map(drop);
        };
        if age(now, entry.fetched_at) < self.ttl(&key) / 2 {
            return Ok(());
        }
        let (flight, joined) = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            self.board(&mut flights, &key, fetch_index)
        };
        if !joined {
            self.count(&key, "refresh");
            let (failures, clock) = (self.failures.clone(), self.clock.clone());
            tokio::spawn(async move {
                if let Err(error) = flight.await {
                    failures.insert(Key::AlarmIndex, (clock.now(), error.is_slow()));
                    tracing::warn!(error = %crate::error::ErrorChain(&error), "the index of alarm names was not renewed; the last one is kept");
                }
            });
        }
        Ok(())
    }

    /// Renews what is due of the catalog, the firing alarms and every cluster's statuses.
    async fn renew_soon(&self) -> Result<(), OpsError> {
        // All at once: the firing alarms' names (what ties an alarm to its service by
        // name) come from the catalog's listing under way, joined, not listed twice; the
        // statuses of the clusters known already are renewed meanwhile.
        let ((catalog, firing), statuses) = tokio::join!(
            async {
                tokio::join!(
                    self.renew(Key::Catalog, fetch_catalog),
                    self.renew(Key::Firing, fetch_firing)
                )
            },
            self.renew_services(self.known_clusters())
        );
        // The catalog holds the cluster list too: FleetSummary's ListClusters is then warm.
        if let Ok(Some(Value::Catalog(catalog))) = &catalog {
            self.store.insert(
                Key::Clusters,
                Entry {
                    value: Value::Clusters(Arc::new(catalog.clusters.clone())),
                    fetched_at: self.clock.now(),
                },
            );
        }
        // The clusters the catalog has just found (all of them, the first time): those
        // renewed above are fresh, and asked nothing.
        let found = self.renew_services(self.known_clusters()).await;
        catalog
            .map(drop)
            .and(firing.map(drop))
            .and(statuses)
            .and(found)
    }

    /// Caches `inner`, measuring freshness with `clock`.
    #[must_use]
    pub fn new(inner: Arc<dyn OpsSource>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        Self {
            inner,
            clock,
            store: moka::sync::Cache::builder()
                .max_capacity(20_000)
                .time_to_idle(settings.max_stale)
                .build(),
            flights: Arc::new(Mutex::new(HashMap::new())),
            failures: moka::sync::Cache::builder().max_capacity(20_000).build(),
            next_flight: AtomicU64::new(0),
            settings,
            account: None,
        }
    }

    /// The same cache, of the configured account `name`: `opsvoice_cache_total` carries it
    /// as the `account` label (bounded by the accounts file).
    #[must_use]
    pub fn in_account(mut self, name: &str) -> Self {
        self.account = Some(name.into());
        self
    }

    fn ttl(&self, key: &Key) -> Duration {
        let t = &self.settings.ttls;
        match key {
            Key::Catalog | Key::Clusters | Key::AlarmIndex => t.catalog,
            Key::Services(_) | Key::Service(_) => t.services,
            Key::Firing => t.alarms,
            Key::AlarmsNamed(_) | Key::Alarm(_) | Key::AlarmHistory(_) => t.alarm_detail,
            Key::Metric(..) | Key::AlarmChart(..) => t.metrics,
            Key::DeploymentsSince(_) | Key::ServiceDeployments(_) => t.deployments,
        }
    }

    /// The most one upstream fetch for `key` may take: the answers' budget, but for the
    /// index of alarm names, which only the background refresh fetches.
    fn deadline(&self, key: &Key) -> Duration {
        match key {
            Key::AlarmIndex => INDEX_DEADLINE.max(self.settings.upstream_deadline),
            _ => self.settings.upstream_deadline,
        }
    }

    /// One upstream fetch for `key`, shared by every caller that joins it. Whoever drives
    /// it to the end stores a good value (and clears the failure mark) before taking the
    /// flight out of `flights`, so a caller arriving at any moment finds either the flight
    /// or the stored value, never neither: one upstream call per cold key.
    fn flight(
        &self,
        key: Key,
        id: u64,
        fetching: BoxFuture<'static, Result<Value, OpsError>>,
    ) -> Flight {
        let deadline = self.deadline(&key);
        let api = key.kind();
        let store = self.store.clone();
        let failures = self.failures.clone();
        let flights = self.flights.clone();
        let clock = self.clock.clone();
        async move {
            let result = match tokio::time::timeout(deadline, fetching).await {
                Ok(result) => result,
                Err(_) => Err(OpsError::Timeout {
                    api,
                    after: deadline,
                }),
            };
            if let Ok(value) = &result {
                store.insert(
                    key.clone(),
                    Entry {
                        value: value.clone(),
                        fetched_at: clock.now(),
                    },
                );
                failures.invalidate(&key);
            }
            let mut flights = flights.lock().unwrap_or_else(PoisonError::into_inner);
            if flights.get(&key).is_some_and(|(current, _)| *current == id) {
                flights.remove(&key);
            }
            result
        }
        .boxed()
        .shared()
    }

    /// The flight under way for `key`, joined (`true`), or a new one started with `fetch`.
    fn board<F>(
        &self,
        flights: &mut HashMap<Key, (u64, Flight)>,
        key: &Key,
        fetch: F,
    ) -> (Flight, bool)
    where
        F: FnOnce(Arc<dyn OpsSource>) -> BoxFuture<'static, Result<Value, OpsError>>,
    {
        match flights.get(key) {
            Some((_, flight)) => (flight.clone(), true),
            None => {
                let id = self.next_flight.fetch_add(1, Ordering::Relaxed);
                let flight = self.flight(key.clone(), id, fetch(self.inner.clone()));
                flights.insert(key.clone(), (id, flight.clone()));
                (flight, false)
            }
        }
    }

    /// Fetches `key` again when it is missing or past half its TTL, joining a flight
    /// already under way; the new value is stored, and a failure keeps the old one (and
    /// starts the back-off, so questions meanwhile are answered from it without waiting).
    /// `None` when the value was fresh enough.
    async fn renew<F>(&self, key: Key, fetch: F) -> Result<Option<Value>, OpsError>
    where
        F: FnOnce(Arc<dyn OpsSource>) -> BoxFuture<'static, Result<Value, OpsError>>,
    {
        let now = self.clock.now();
        let due = self
            .store
            .get(&key)
            .is_none_or(|e| age(now, e.fetched_at) >= self.ttl(&key) / 2);
        if !due {
            return Ok(None);
        }
        let (flight, _) = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            self.board(&mut flights, &key, fetch)
        };
        self.count(&key, "refresh");
        flight.await.map(Some).inspect_err(|error| {
            self.failures
                .insert(key.clone(), (self.clock.now(), error.is_slow()));
        })
    }

    fn count(&self, key: &Key, result: &'static str) {
        match &self.account {
            None => {
                metrics::counter!("opsvoice_cache_total", "kind" => key.kind(), "result" => result)
                    .increment(1);
            }
            Some(account) => {
                metrics::counter!("opsvoice_cache_total", "kind" => key.kind(), "result" => result, "account" => account.to_string())
                    .increment(1);
            }
        }
    }

    /// `entry`'s value if it is within `key`'s TTL at `now` (counted as a hit).
    fn fresh(&self, key: &Key, entry: Option<&Entry>, now: SystemTime) -> Option<Value> {
        let entry = entry.filter(|e| age(now, e.fetched_at) < self.ttl(key))?;
        self.count(key, "hit");
        Some(entry.value.clone())
    }

    /// The value for `key`: fresh from the cache, from a flight already under way, from a
    /// new upstream call, or stale when the upstream fails.
    async fn get<F>(&self, key: Key, fetch: F) -> Result<Value, OpsError>
    where
        F: FnOnce(Arc<dyn OpsSource>) -> BoxFuture<'static, Result<Value, OpsError>>,
    {
        let now = self.clock.now();
        let cached = self.store.get(&key);
        if let Some(value) = self.fresh(&key, cached.as_ref(), now) {
            return Ok(value);
        }
        let serve_stale = |entry: &Entry, slow: bool| {
            let stale_for = age(now, entry.fetched_at);
            (stale_for <= self.settings.max_stale).then(|| {
                freshness::note(key.system(), stale_for, slow);
                entry.value.clone()
            })
        };
        let backing_off = self
            .failures
            .get(&key)
            .filter(|(failed_at, _)| age(now, *failed_at) < self.settings.failure_backoff);
        if let Some((_, slow)) = backing_off
            && let Some(value) = cached.as_ref().and_then(|e| serve_stale(e, slow))
        {
            self.count(&key, "stale");
            return Ok(value);
        }
        let (flight, joined) = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            // A flight that ended between our look at the store and this lock has stored
            // its value already (it stores before it leaves `flights`): use it.
            if let Some(value) = self.fresh(&key, self.store.get(&key).as_ref(), self.clock.now()) {
                return Ok(value);
            }
            self.board(&mut flights, &key, fetch)
        };
        self.count(&key, if joined { "coalesced" } else { "miss" });
        match flight.await {
            Ok(value) => Ok(value),
            Err(error) => {
                self.failures.insert(key.clone(), (now, error.is_slow()));
                match cached
                    .as_ref()
                    .and_then(|e| serve_stale(e, error.is_slow()))
                {
                    Some(value) => {
                        tracing::warn!(kind = key.kind(), %error, "serving stale data");
                        self.count(&key, "stale");
                        Ok(value)
                    }
                    None => Err(error),
                }
            }
        }
    }
}

#[async_trait]
impl OpsSource for CachedOps {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn forget_service(&self, service: &ServiceRef) {
        self.store.invalidate(&Key::Service(service.clone()));
        self.store
            .invalidate(&Key::Services(service.cluster.clone()));
        self.store
            .invalidate(&Key::ServiceDeployments(service.clone()));
        self.inner.forget_service(service);
    }

    fn forget_alarm(&self, name: &str) {
        self.store.invalidate(&Key::Alarm(name.to_owned()));
        self.store.invalidate(&Key::AlarmHistory(name.to_owned()));
        self.inner.forget_alarm(name);
    }

    async fn catalog(&self) -> Result<Arc<Catalog>, OpsError> {
        let v = self.get(Key::Catalog, fetch_catalog).await?;
        Ok(unwrap_value!(v, Catalog))
    }

    async fn clusters(&self) -> Result<Arc<Vec<String>>, OpsError> {
        let v = self
            .get(Key::Clusters, |ops| {
                async move { ops.clusters().await.map(Value::Clusters) }.boxed()
            })
            .await?;
        Ok(unwrap_value!(v, Clusters))
    }

    async fn services(&self, cluster: &str) -> Result<Vec<ServiceStatus>, OpsError> {
        Ok(self.shared_services(cluster).await?.as_ref().clone())
    }

    async fn service(&self, service: &ServiceRef) -> Result<Option<ServiceStatus>, OpsError> {
        // The cluster's statuses, while fresh (the refresh keeps them so), have it: the
        // same DescribeServices, no call of its own. A service they lack (created since)
        // is asked for.
        if let Some(Value::Services(statuses)) =
            self.stored_fresh(&Key::Services(service.cluster.clone()))
            && let Some(status) = statuses.iter().find(|s| s.service == *service)
        {
            self.count(&Key::Service(service.clone()), "hit");
            return Ok(Some(status.clone()));
        }
        let s = service.clone();
        let asked = self
            .get(Key::Service(s.clone()), |ops| {
                async move { ops.service(&s).await.map(|s| Value::Service(Arc::new(s))) }.boxed()
            })
            .await;
        match asked {
            Ok(v) => Ok(unwrap_value!(v, Service).as_ref().clone()),
            // Never asked for alone (the statuses kept had it) and ECS failing now: the
            // statuses kept, with their age, as for any stale answer.
            Err(error) => self.stale_status(service, &error).ok_or(error).map(Some),
        }
    }

    async fn firing_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        Ok(self.shared_firing().await?.as_ref().clone())
    }

    /// Not cached: `models build --from-backend` reads the whole list once. (The index of
    /// alarm names the refresh keeps is read through [`OpsSource::indexed_alarms`].)
    async fn all_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        self.inner.all_alarms().await
    }

    async fn service_firing_alarms(&self, service: &ServiceRef) -> Result<Vec<Alarm>, OpsError> {
        // The same cached list as `firing_alarms`, filtered before anything is copied.
        Ok(self
            .shared_firing()
            .await?
            .iter()
            .filter(|a| a.is_about(service))
            .cloned()
            .collect())
    }

    async fn alarms_named(&self, prefix: &str) -> Result<Vec<Alarm>, OpsError> {
        // The index the refresh keeps, when it has the name; else asked (an alarm made
        // since the index was, or no index yet).
        if let Some(found) = self.indexed_alarms(prefix)
            && !found.is_empty()
        {
            self.count(&Key::AlarmIndex, "hit");
            return Ok(found);
        }
        let p = prefix.to_owned();
        let v = self
            .get(Key::AlarmsNamed(p.clone()), |ops| {
                async move {
                    ops.alarms_named(&p)
                        .await
                        .map(|a| Value::Alarms(Arc::new(a)))
                }
                .boxed()
            })
            .await?;
        Ok(unwrap_value!(v, Alarms).as_ref().clone())
    }

    fn indexed_alarms(&self, prefix: &str) -> Option<Vec<Alarm>> {
        let Value::Alarms(all) = self.stored_fresh(&Key::AlarmIndex)? else {
            return None;
        };
        if prefix.is_empty() {
            // As `AlarmNamePrefix`: an empty prefix names nothing here, not everything.
            return Some(Vec::new());
        }
        Some(
            all.iter()
                .filter(|a| a.name.starts_with(prefix))
                .cloned()
                .collect(),
        )
    }

    async fn alarm(&self, name: &str) -> Result<Option<AlarmDetail>, OpsError> {
        // An alarm in the firing listing (fresh: the one every answer shares) needs no
        // lookup: only its history is read, one call.
        if let Some(Value::Alarms(firing)) = self.stored_fresh(&Key::Firing)
            && let Some(alarm) = firing.iter().find(|a| a.name == name)
        {
            let n = name.to_owned();
            let history = self
                .get(Key::AlarmHistory(n.clone()), |ops| {
                    async move {
                        ops.alarm_history(&n)
                            .await
                            .map(|h| Value::History(Arc::new(h)))
                    }
                    .boxed()
                })
                .await;
            let history = match history {
                Ok(v) => unwrap_value!(v, History).as_ref().clone(),
                Err(error) => {
                    // Best effort, as the history always is: the alarm without it.
                    tracing::warn!(%error, "alarm history unavailable");
                    None
                }
            };
            return Ok(Some(AlarmDetail {
                alarm: alarm.clone(),
                history,
            }));
        }
        let n = name.to_owned();
        let v = self
            .get(Key::Alarm(n.clone()), |ops| {
                async move { ops.alarm(&n).await.map(|a| Value::Alarm(Arc::new(a))) }.boxed()
            })
            .await?;
        Ok(unwrap_value!(v, Alarm).as_ref().clone())
    }

    async fn metric(
        &self,
        service: &ServiceRef,
        kind: MetricKind,
        window: Duration,
    ) -> Result<Option<MetricSeries>, OpsError> {
        let s = service.clone();
        let v = self
            .get(Key::Metric(s.clone(), kind, window.as_secs()), |ops| {
                async move {
                    ops.metric(&s, kind, window)
                        .await
                        .map(|m| Value::Metric(Arc::new(m)))
                }
                .boxed()
            })
            .await?;
        Ok(unwrap_value!(v, Metric).as_ref().clone())
    }

    async fn alarm_chart(
        &self,
        name: &str,
        window: Duration,
    ) -> Result<Option<AlarmChart>, OpsError> {
        let n = name.to_owned();
        let v = self
            .get(Key::AlarmChart(n.clone(), window.as_secs()), |ops| {
                async move {
                    ops.alarm_chart(&n, window)
                        .await
                        .map(|c| Value::AlarmChart(Arc::new(c)))
                }
                .boxed()
            })
            .await?;
        Ok(unwrap_value!(v, AlarmChart).as_ref().clone())
    }

    async fn deployments_since(
        &self,
        since: SystemTime,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        // From the statuses kept (FleetSummary's, renewed by the refresh) when the
        // deployments are theirs: the same calls, made once for both, or none.
        if let Some(history) = self.inner.history_of_status() {
            let clusters = self.clusters().await?;
            let fleets = futures_util::future::try_join_all(
                clusters.iter().map(|c| self.shared_services(c)),
            )
            .await?;
            return Ok(super::changed_since(
                fleets.iter().flat_map(|f| f.iter()).flat_map(history),
                since,
            ));
        }
        // Share an entry across the requests of the same minute.
        let minute = since
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            / 60;
        let v = self
            .get(Key::DeploymentsSince(minute), |ops| {
                async move {
                    ops.deployments_since(since)
                        .await
                        .map(|r| Value::Records(Arc::new(r)))
                }
                .boxed()
            })
            .await?;
        Ok(unwrap_value!(v, Records).as_ref().clone())
    }

    async fn service_deployments(
        &self,
        service: &ServiceRef,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        // From the service's status (the one its health is told from) when they are its.
        if let Some(history) = self.inner.history_of_status() {
            return Ok(self
                .service(service)
                .await?
                .map(|s| history(&s))
                .unwrap_or_default());
        }
        let s = service.clone();
        let v = self
            .get(Key::ServiceDeployments(s.clone()), |ops| {
                async move {
                    ops.service_deployments(&s)
                        .await
                        .map(|r| Value::Records(Arc::new(r)))
                }
                .boxed()
            })
            .await?;
        Ok(unwrap_value!(v, Records).as_ref().clone())
    }

    async fn warm(&self) -> Result<(), OpsError> {
        if self.store.contains_key(&Key::AlarmIndex) {
            // Renewed in the background when due: nothing here waits for it.
            let (soon, index) = tokio::join!(self.renew_soon(), self.renew_index());
            return soon.and(index);
        }
        // The first index is waited for: after what goes stale in seconds (its listing of
        // every alarm must not delay them, nor be slowed by them; the catalog it ties
        // alarms to services with is listed by then), and then what went past half its
        // TTL meanwhile (seconds, on a big account's alarms) is renewed again, and nothing
        // else, so a refresh always leaves it fresh.
        let soon = self.renew_soon().await;
        let index = self.renew_index().await;
        let again = self.renew_soon().await;
        soon.and(index).and(again)
    }

    async fn ready(&self) -> Result<(), OpsError> {
        // Readiness is about the upstream now, not about what we remember.
        match tokio::time::timeout(self.settings.upstream_deadline, self.inner.ready()).await {
            Ok(result) => result,
            Err(_) => Err(OpsError::Timeout {
                api: "ready",
                after: self.settings.upstream_deadline,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::ops::demo::DemoFleet;

    /// The demo fleet, slowed a little and counting its `service` calls.
    #[derive(Debug)]
    struct Counting {
        inner: DemoFleet,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl OpsSource for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        async fn catalog(&self) -> Result<Arc<Catalog>, OpsError> {
            self.inner.catalog().await
        }
        async fn clusters(&self) -> Result<Arc<Vec<String>>, OpsError> {
            self.inner.clusters().await
        }
        async fn services(&self, cluster: &str) -> Result<Vec<ServiceStatus>, OpsError> {
            self.inner.services(cluster).await
        }
        async fn service(&self, service: &ServiceRef) -> Result<Option<ServiceStatus>, OpsError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(2)).await;
            self.inner.service(service).await
        }
        async fn firing_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
            self.inner.firing_alarms().await
        }
        async fn all_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
            self.inner.all_alarms().await
        }
        async fn alarms_named(&self, prefix: &str) -> Result<Vec<Alarm>, OpsError> {
            self.inner.alarms_named(prefix).await
        }
        async fn alarm(&self, name: &str) -> Result<Option<AlarmDetail>, OpsError> {
            self.inner.alarm(name).await
        }
        async fn metric(
            &self,
            service: &ServiceRef,
            kind: MetricKind,
            window: Duration,
        ) -> Result<Option<MetricSeries>, OpsError> {
            self.inner.metric(service, kind, window).await
        }
        async fn deployments_since(
            &self,
            since: SystemTime,
        ) -> Result<Vec<DeploymentRecord>, OpsError> {
            self.inner.deployments_since(since).await
        }
        async fn service_deployments(
            &self,
            service: &ServiceRef,
        ) -> Result<Vec<DeploymentRecord>, OpsError> {
            self.inner.service_deployments(service).await
        }
        async fn ready(&self) -> Result<(), OpsError> {
            Ok(())
        }
    }

    /// Defect: 100 concurrent identical questions on a cold key made two upstream calls.
    /// Callers arrive spread over the moment the first call completes, on several threads,
    /// so one arriving between the flight's end and the value's storing is tried each round.
    #[test]
    fn concurrent_identical_questions_on_a_cold_key_make_exactly_one_call() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(8)
            .enable_all()
            .build()
            .unwrap();
        let clock: Arc<dyn Clock> = Arc::new(crate::ops::SystemClock);
        let service = ServiceRef::new("prod", "checkout");
        for round in 0..40 {
            let source = Arc::new(Counting {
                inner: DemoFleet::new(clock.clone()),
                calls: AtomicUsize::new(0),
            });
            let cache = Arc::new(CachedOps::new(
                source.clone(),
                clock.clone(),
                Settings::default(),
            ));
            runtime.block_on(async {
                let tasks: Vec<_> = (0..100u64)
                    .map(|i| {
                        let cache = cache.clone();
                        let service = service.clone();
                        tokio::spawn(async move {
                            // Arrivals from 0 to ~4 ms: before, during and after the
                            // 2 ms upstream call completes.
                            tokio::time::sleep(Duration::from_micros(i * 40)).await;
                            cache.service(&service).await.unwrap()
                        })
                    })
                    .collect();
                for task in tasks {
                    assert!(task.await.unwrap().is_some());
                }
            });
            assert_eq!(
                source.calls.load(Ordering::SeqCst),
                1,
                "round {round}: 100 concurrent questions, one upstream call"
            );
        }
    }

    /// After an action of ours changed a service, the next question reads it fresh: the
    /// cache forgets that service (and its cluster's list), and nothing else.
    #[tokio::test]
    async fn a_forgotten_service_is_read_again_and_others_stay_cached() {
        let clock: Arc<dyn Clock> = Arc::new(crate::ops::SystemClock);
        let source = Arc::new(Counting {
            inner: DemoFleet::new(clock.clone()),
            calls: AtomicUsize::new(0),
        });
        let cache = CachedOps::new(source.clone(), clock, Settings::default());
        let (checkout, cart) = (
            ServiceRef::new("prod", "checkout"),
            ServiceRef::new("prod", "cart"),
        );
        for s in [&checkout, &cart, &checkout, &cart] {
            cache.service(s).await.unwrap();
        }
        assert_eq!(source.calls.load(Ordering::SeqCst), 2);
        cache.forget_service(&checkout);
        cache.service(&checkout).await.unwrap();
        cache.service(&cart).await.unwrap();
        assert_eq!(
            source.calls.load(Ordering::SeqCst),
            3,
            "checkout again, cart still cached"
        );
    }
}
