//! Many accounts and regions behind one [`OpsSource`] (`OPSVOICE_ACCOUNTS_FILE`): each
//! (account, region) is a member, the same source (and cache) a single account has, read
//! with that account's credentials in that region. What a member returns is stamped with
//! its [`Place`]; what is asked about one place goes to that member only (its own source
//! never sees a place).
//!
//! Questions about everything fan out to the members at once, within bounds (at most a few
//! members of any one account, and at most so many AWS calls in all, shared by every answer
//! under way: AWS throttles per account and region, and the process keeps a bound), all
//! under one deadline inside the answer budget (one for the whole answer, however many
//! fan-outs it makes). A member that fails or does not answer by then is left out and
//! named ([`super::partial`]); the answer is made from the others, and only fails when no
//! member answered at all. The background refresh ([`OpsSource::warm`]) renews a few
//! members at a time.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{
    Alarm, AlarmDetail, Catalog, DeploymentRecord, MetricKind, MetricSeries, OpsError, OpsSource,
    Place, ServiceRef, ServiceStatus, partial,
};

/// How much is asked at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency {
    /// Members of one account the answers ask at once (`OPSVOICE_ACCOUNTS_CONCURRENCY`).
    pub per_account: usize,
    /// AWS calls every answer under way asks at once together, across accounts, as the
    /// members being asked make them: [`LISTING`] for one listing its services, 1 for any
    /// other read (`OPSVOICE_ACCOUNTS_ANSWER_CONCURRENCY`).
    pub answers: usize,
    /// Members the background refresh renews at once (`OPSVOICE_ACCOUNTS_CONCURRENCY`).
    pub refresh: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Self {
            per_account: 8,
            answers: 64,
            refresh: 8,
        }
    }
}

/// What a member listing a cluster's services (with their DescribeServices, 4 calls at once)
/// counts against the answers' bound: a fan-out that makes many calls in each member asks
/// fewer members at once. Measured on one moto (`scripts/bigfleet.sh accounts`): every
/// member's DescribeServices at once made the upstream a queue that served them all
/// equally, and none had finished by the deadline.
pub const LISTING: u32 = 4;

/// How long a member that ran out of time is left out of answers without being asked
/// (then it is asked again): one slow account must not cost every question its deadline,
/// nor the understanding of a question and then its answer one deadline each.
pub const SLOW_BACKOFF: Duration = Duration::from_secs(5);

/// One account in one region.
#[derive(Debug, Clone)]
pub struct Member {
    pub place: Place,
    pub source: Arc<dyn OpsSource>,
}

/// Who is being asked now, within the bounds. A member counts once against its account's
/// bound and the answers' bound however many reads (of however many answers) it is doing:
/// a member's services and its alarms (FleetSummary asks for both at once) never wait for
/// each other, nor behind other members' turns.
#[derive(Debug)]
struct Room {
    /// Per member, the index of its account's permits in `per_account`.
    account_of: Vec<usize>,
    /// Per account, its members being asked now.
    per_account: Vec<Arc<Semaphore>>,
    /// The calls being made now, by every answer.
    answers: Arc<Semaphore>,
    /// How many permits `answers` has.
    bound: usize,
    /// Per member: its reads under way, and the permits they share.
    busy: Vec<Mutex<Busy>>,
    /// Per member: one asker at a time waits for its permits.
    entering: Vec<tokio::sync::Mutex<()>>,
}

#[derive(Debug, Default)]
struct Busy {
    reads: usize,
    /// The account's permit and the answers' permits (as many as the heaviest read).
    permits: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
}

impl Busy {
    /// The answers' permits held.
    fn weight(&self) -> u32 {
        self.permits.as_ref().map_or(0, |(_, answers)| {
            u32::try_from(answers.num_permits()).unwrap_or(0)
        })
    }
}

/// One read of member `i` under way; the member's permits go back when its last read
/// ends.
struct Inside<'a> {
    room: &'a Room,
    i: usize,
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        let mut busy = self.room.busy[self.i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        busy.reads = busy.reads.saturating_sub(1);
        if busy.reads == 0 {
            busy.permits = None;
        }
    }
}

impl Room {
    fn new(members: &[Member], concurrency: Concurrency) -> Self {
        let mut accounts: Vec<&str> = Vec::new();
        let account_of: Vec<usize> = members
            .iter()
            .map(|m| {
                accounts
                    .iter()
                    .position(|a| *a == m.place.account)
                    .unwrap_or_else(|| {
                        accounts.push(&m.place.account);
                        accounts.len() - 1
                    })
            })
            .collect();
        Self {
            account_of,
            per_account: accounts
                .iter()
                .map(|_| Arc::new(Semaphore::new(concurrency.per_account)))
                .collect(),
            answers: Arc::new(Semaphore::new(concurrency.answers)),
            bound: concurrency.answers,
            busy: members.iter().map(|_| Mutex::default()).collect(),
            entering: members
                .iter()
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// A read of member `i` (of `weight`) joins its reads under way, if any holds as much.
    fn join(&self, i: usize, weight: u32) -> Option<Inside<'_>> {
        let mut busy = self.busy[i].lock().unwrap_or_else(PoisonError::into_inner);
        (busy.reads > 0 && busy.weight() >= weight).then(|| {
            busy.reads += 1;
            Inside { room: self, i }
        })
    }

    /// Waits until member `i` may be asked for a read of `weight` (answers' permits, at
    /// most the bound): at once when it is being asked already for as much, else once its
    /// account and the answers have room for it.
    async fn enter(&self, i: usize, weight: u32) -> Inside<'_> {
        let weight = weight.clamp(1, u32::try_from(self.bound).unwrap_or(u32::MAX));
        if let Some(inside) = self.join(i, weight) {
            return inside;
        }
        let _one = self.entering[i].lock().await;
        if let Some(inside) = self.join(i, weight) {
            return inside;
        }
        let held = {
            let busy = self.busy[i].lock().unwrap_or_else(PoisonError::into_inner);
            (busy.reads > 0).then(|| busy.weight())
        };
        if let Some(held) = held {
            // Under way, but lighter: only the difference is waited for.
            let more = self
                .answers
                .clone()
                .acquire_many_owned(weight.saturating_sub(held))
                .await;
            let mut busy = self.busy[i].lock().unwrap_or_else(PoisonError::into_inner);
            if busy.reads > 0
                && let (Some((_, answers)), Ok(more)) = (busy.permits.as_mut(), more)
            {
                answers.merge(more);
                busy.reads += 1;
                return Inside { room: self, i };
            }
            // Its reads ended meanwhile: it is entered afresh.
        }
        // Always the account's permit first, then the shared ones: nobody holds a shared
        // permit while waiting for an account's.
        let account = self.per_account[self.account_of[i]]
            .clone()
            .acquire_owned()
            .await;
        let answers = self.answers.clone().acquire_many_owned(weight).await;
        let mut busy = self.busy[i].lock().unwrap_or_else(PoisonError::into_inner);
        busy.reads += 1;
        busy.permits = account.ok().zip(answers.ok());
        Inside { room: self, i }
    }
}

/// Every member behind one source.
#[derive(Debug, Clone)]
pub struct AccountsOps {
    members: Arc<[Member]>,
    concurrency: Concurrency,
    room: Arc<Room>,
    /// The most a fan-out may take: a member still busy then is left out.
    deadline: Duration,
    /// Per member, until when it is left out for having been slow.
    slow_until: Arc<Mutex<Vec<Option<tokio::time::Instant>>>>,
}

impl AccountsOps {
    /// The members, asked within `concurrency` (each bound at least 1), each answer
    /// within `deadline`.
    #[must_use]
    pub fn new(members: Vec<Member>, concurrency: Concurrency, deadline: Duration) -> Self {
        let concurrency = Concurrency {
            per_account: concurrency.per_account.max(1),
            answers: concurrency.answers.max(1),
            refresh: concurrency.refresh.max(1),
        };
        let slow_until = Arc::new(Mutex::new(vec![None; members.len()]));
        Self {
            concurrency,
            room: Arc::new(Room::new(&members, concurrency)),
            members: members.into(),
            deadline,
            slow_until,
        }
    }

    /// The members, in the order of the accounts file.
    #[must_use]
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The bounds the members are asked within.
    #[must_use]
    pub fn concurrency(&self) -> Concurrency {
        self.concurrency
    }

    /// `fut`, a read of `weight` asked of member `i` once it may be asked
    /// ([`Room::enter`]).
    async fn within_bounds<T>(&self, i: usize, weight: u32, fut: impl Future<Output = T>) -> T {
        let _inside = self.room.enter(i, weight).await;
        fut.await
    }

    /// Whether member `i` is resting after being slow, at `now`.
    fn resting(&self, i: usize, now: tokio::time::Instant) -> bool {
        self.slow_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(i)
            .copied()
            .flatten()
            .is_some_and(|u| u > now)
    }

    /// Runs `ask` (one read of each member) on every member, at once within the bounds,
    /// all within one deadline. Returns what answered, stamped by member, and notes the rest
    /// as left out. Fails only when no member answered (with the first failure, so the
    /// answer says which system).
    async fn each<'a, T, F, Fut>(&'a self, ask: F) -> Result<Vec<(&'a Member, T)>, OpsError>
    where
        F: Fn(&'a Member) -> Fut,
        Fut: Future<Output = Result<T, OpsError>>,
    {
        self.each_weighing(1, ask).await
    }

    /// [`AccountsOps::each`], for a read that makes `weight` calls at once in each member.
    async fn each_weighing<'a, T, F, Fut>(
        &'a self,
        weight: u32,
        ask: F,
    ) -> Result<Vec<(&'a Member, T)>, OpsError>
    where
        F: Fn(&'a Member) -> Fut,
        Fut: Future<Output = Result<T, OpsError>>,
    {
        let now = tokio::time::Instant::now();
        let until = partial::until(self.deadline);
        let deadline = self.deadline;
        // Polled in this task (never spawned): the freshness and partial notes of each
        // member land in the answer's own records.
        let asked = self.members.iter().enumerate().map(|(i, m)| {
            let resting = self.resting(i, now);
            let fut = ask(m);
            async move {
                if resting {
                    return Err(OpsError::Timeout {
                        api: "accounts",
                        after: Duration::ZERO,
                    });
                }
                match tokio::time::timeout_at(until, self.within_bounds(i, weight, fut)).await {
                    Ok(r) => r,
                    Err(_) => Err(OpsError::Timeout {
                        api: "accounts",
                        after: deadline,
                    }),
                }
            }
        });
        let results: Vec<Result<T, OpsError>> = futures_util::future::join_all(asked).await;
        let mut ok = Vec::with_capacity(results.len());
        let mut failed: Vec<(usize, OpsError)> = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(v) => ok.push((&self.members[i], v)),
                Err(e) => failed.push((i, e)),
            }
        }
        self.rest_slow(failed.iter().map(|(i, e)| (*i, e)), now);
        if ok.is_empty()
            && let Some((_, first)) = failed.first()
        {
            return Err(first.clone());
        }
        self.note_left(failed.iter().map(|(i, e)| (*i, e)));
        Ok(ok)
    }

    /// Members that ran out of time (just now, not already resting) rest for
    /// [`SLOW_BACKOFF`].
    fn rest_slow<'e>(
        &self,
        failed: impl Iterator<Item = (usize, &'e OpsError)>,
        now: tokio::time::Instant,
    ) {
        let mut slow = self
            .slow_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (i, e) in failed {
            let resting = slow.get(i).copied().flatten().is_some_and(|u| u > now);
            if e.is_slow()
                && !resting
                && let Some(until) = slow.get_mut(i)
            {
                *until = Some(now + SLOW_BACKOFF);
            }
        }
    }

    /// Notes the members that failed: a whole account when none of its regions answered
    /// this time, else the regions that did not.
    fn note_left<'e>(&self, failed: impl Iterator<Item = (usize, &'e OpsError)>) {
        let failed: Vec<usize> = failed
            .map(|(i, e)| {
                tracing::warn!(place = %self.members[i].place, error = %crate::error::ErrorChain(e), "an account left out of the answer");
                i
            })
            .collect();
        for &i in &failed {
            let place = &self.members[i].place;
            let whole = self
                .members
                .iter()
                .enumerate()
                .filter(|(_, m)| m.place.account == place.account)
                .all(|(j, _)| failed.contains(&j));
            partial::note(&place.account, (!whole).then_some(place.region.as_str()));
        }
    }

    /// The member at `place`.
    fn at(&self, place: &Place) -> Option<&Member> {
        self.members.iter().find(|m| &m.place == place)
    }

    /// The member that holds `service`: its place's, or (for a service named without one,
    /// as a session from before accounts may carry) the first whose catalog has it.
    async fn holder(&self, service: &ServiceRef) -> Result<Option<&Member>, OpsError> {
        if let Some(place) = &service.place {
            return Ok(self.at(place));
        }
        if let [only] = &*self.members {
            return Ok(Some(only));
        }
        let bare = service.unplaced();
        let found = self
            .each(|m| {
                let bare = bare.clone();
                async move { Ok(m.source.catalog().await?.services.contains(&bare)) }
            })
            .await?;
        Ok(found.into_iter().find(|(_, has)| *has).map(|(m, _)| m))
    }

    /// One member's answer, within the deadline; a member that fails fails the answer
    /// (there is no other to answer from), named as left out.
    async fn one<T>(
        &self,
        member: &Member,
        fut: impl Future<Output = Result<T, OpsError>>,
    ) -> Result<T, OpsError> {
        let i = self
            .members
            .iter()
            .position(|m| m.place == member.place)
            .unwrap_or(0);
        let now = tokio::time::Instant::now();
        let r = if self.resting(i, now) {
            Err(OpsError::Timeout {
                api: "accounts",
                after: Duration::ZERO,
            })
        } else {
            let until = partial::until(self.deadline);
            match tokio::time::timeout_at(until, self.within_bounds(i, 1, fut)).await {
                Ok(r) => r,
                Err(_) => Err(OpsError::Timeout {
                    api: "accounts",
                    after: self.deadline,
                }),
            }
        };
        if let Err(e) = &r {
            self.rest_slow(std::iter::once((i, e)), now);
        }
        if let Err(e) = &r {
            tracing::warn!(place = %member.place, error = %crate::error::ErrorChain(e), "an account did not answer");
        }
        r
    }
}

fn stamp_service(service: &mut ServiceRef, place: &Place) {
    service.place = Some(place.clone());
}

fn stamp_alarm(mut alarm: Alarm, place: &Place) -> Alarm {
    if let Some(s) = alarm.service.as_mut() {
        stamp_service(s, place);
    }
    alarm.place = Some(place.clone());
    alarm
}

fn stamp_status(mut status: ServiceStatus, place: &Place) -> ServiceStatus {
    stamp_service(&mut status.service, place);
    status
}

fn stamp_record(mut record: DeploymentRecord, place: &Place) -> DeploymentRecord {
    stamp_service(&mut record.service, place);
    record
}

#[async_trait]
impl OpsSource for AccountsOps {
    fn name(&self) -> &'static str {
        "aws"
    }

    async fn catalog(&self) -> Result<Arc<Catalog>, OpsError> {
        let parts = self.each(|m| m.source.catalog()).await?;
        let mut catalog = Catalog::default();
        for (m, part) in parts {
            for c in &part.clusters {
                if !catalog.clusters.contains(c) {
                    catalog.clusters.push(c.clone());
                }
            }
            catalog.services.extend(
                part.services
                    .iter()
                    .map(|s| s.unplaced().at(m.place.clone())),
            );
        }
        Ok(Arc::new(catalog))
    }

    async fn clusters(&self) -> Result<Arc<Vec<String>>, OpsError> {
        let parts = self.each(|m| m.source.clusters()).await?;
        let mut clusters: Vec<String> = Vec::new();
        for (_, part) in parts {
            for c in part.iter() {
                if !clusters.contains(c) {
                    clusters.push(c.clone());
                }
            }
        }
        Ok(Arc::new(clusters))
    }

    async fn services(&self, cluster: &str) -> Result<Vec<ServiceStatus>, OpsError> {
        let parts = self
            .each_weighing(LISTING, |m| async move {
                // Only the members that have the cluster are asked for its services.
                if m.source.clusters().await?.iter().any(|c| c == cluster) {
                    m.source.services(cluster).await
                } else {
                    Ok(Vec::new())
                }
            })
            .await?;
        Ok(parts
            .into_iter()
            .flat_map(|(m, list)| list.into_iter().map(|s| stamp_status(s, &m.place)))
            .collect())
    }

    async fn service(&self, service: &ServiceRef) -> Result<Option<ServiceStatus>, OpsError> {
        let Some(member) = self.holder(service).await? else {
            return Ok(None);
        };
        let bare = service.unplaced();
        Ok(self
            .one(member, member.source.service(&bare))
            .await?
            .map(|s| stamp_status(s, &member.place)))
    }

    async fn firing_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        let parts = self.each(|m| m.source.firing_alarms()).await?;
        let mut alarms: Vec<Alarm> = parts
            .into_iter()
            .flat_map(|(m, list)| list.into_iter().map(|a| stamp_alarm(a, &m.place)))
            .collect();
        alarms.sort_by_key(|a| std::cmp::Reverse(a.since));
        Ok(alarms)
    }

    async fn service_firing_alarms(&self, service: &ServiceRef) -> Result<Vec<Alarm>, OpsError> {
        let Some(member) = self.holder(service).await? else {
            return Ok(Vec::new());
        };
        let bare = service.unplaced();
        Ok(self
            .one(member, member.source.service_firing_alarms(&bare))
            .await?
            .into_iter()
            .map(|a| stamp_alarm(a, &member.place))
            .collect())
    }

    async fn all_alarms(&self) -> Result<Vec<Alarm>, OpsError> {
        let parts = self.each(|m| m.source.all_alarms()).await?;
        Ok(parts
            .into_iter()
            .flat_map(|(m, list)| list.into_iter().map(|a| stamp_alarm(a, &m.place)))
            .collect())
    }

    async fn alarms_named(&self, prefix: &str) -> Result<Vec<Alarm>, OpsError> {
        // Each member's index of alarm names (kept by the refresh) first: a name is asked
        // for only where no fresh index answers for it, so a named alarm costs no call
        // where it is not. Only when no index anywhere has it (an alarm made since they
        // were, or no refresh yet) is every member asked, as without an index.
        let indexed: Vec<Option<Vec<Alarm>>> = self
            .members
            .iter()
            .map(|m| m.source.indexed_alarms(prefix))
            .collect();
        let anywhere = indexed.iter().flatten().any(|found| !found.is_empty());
        let parts = self
            .each(|m| {
                let held = self
                    .members
                    .iter()
                    .position(|x| x.place == m.place)
                    .and_then(|i| indexed[i].clone())
                    .filter(|_| anywhere);
                async move {
                    match held {
                        Some(found) => Ok(found),
                        None => m.source.alarms_named(prefix).await,
                    }
                }
            })
            .await?;
        Ok(parts
            .into_iter()
            .flat_map(|(m, list)| list.into_iter().map(|a| stamp_alarm(a, &m.place)))
            .collect())
    }

    async fn alarm(&self, name: &str) -> Result<Option<AlarmDetail>, OpsError> {
        // A firing alarm (the listing every answer shares, cached) says which member holds
        // it: only that one reads its history.
        if let Ok(firing) = self.firing_alarms().await
            && let Some(place) = firing
                .iter()
                .find(|a| a.name == name)
                .and_then(|a| a.place.clone())
            && let Some(member) = self.at(&place)
        {
            return Ok(self
                .one(member, member.source.alarm(name))
                .await?
                .map(|mut d| {
                    d.alarm = stamp_alarm(d.alarm, &member.place);
                    d
                }));
        }
        // Else by name everywhere; the first account (in the file's order) that has one by
        // that name answers.
        let parts = self.each(|m| m.source.alarm(name)).await?;
        Ok(parts.into_iter().find_map(|(m, detail)| {
            detail.map(|mut d| {
                d.alarm = stamp_alarm(d.alarm, &m.place);
                d
            })
        }))
    }

    async fn alarm_at(&self, name: &str, place: &Place) -> Result<Option<AlarmDetail>, OpsError> {
        let Some(member) = self.at(place) else {
            return Ok(None);
        };
        Ok(self
            .one(member, member.source.alarm(name))
            .await?
            .map(|mut d| {
                d.alarm = stamp_alarm(d.alarm, &member.place);
                d
            }))
    }

    async fn metric(
        &self,
        service: &ServiceRef,
        kind: MetricKind,
        window: Duration,
    ) -> Result<Option<MetricSeries>, OpsError> {
        let Some(member) = self.holder(service).await? else {
            return Ok(None);
        };
        let bare = service.unplaced();
        self.one(member, member.source.metric(&bare, kind, window))
            .await
    }

    async fn deployments_since(
        &self,
        since: SystemTime,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        // Each member's clusters first, all at once (one call each, as FleetSummary asks
        // them): only the listing of the services (a few calls at once in each member)
        // then waits its turn, not the AssumeRole and ListClusters before it too. What
        // fails here is left out below as well.
        let _ = self.each(|m| m.source.clusters()).await;
        let parts = self
            .each_weighing(LISTING, |m| m.source.deployments_since(since))
            .await?;
        let mut records: Vec<DeploymentRecord> = parts
            .into_iter()
            .flat_map(|(m, list)| list.into_iter().map(|r| stamp_record(r, &m.place)))
            .collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        Ok(records)
    }

    async fn service_deployments(
        &self,
        service: &ServiceRef,
    ) -> Result<Vec<DeploymentRecord>, OpsError> {
        let Some(member) = self.holder(service).await? else {
            return Ok(Vec::new());
        };
        let bare = service.unplaced();
        Ok(self
            .one(member, member.source.service_deployments(&bare))
            .await?
            .into_iter()
            .map(|r| stamp_record(r, &member.place))
            .collect())
    }

    fn accounts(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for m in self.members.iter() {
            if !names.contains(&m.place.account) {
                names.push(m.place.account.clone());
            }
        }
        names
    }

    fn forget_service(&self, service: &ServiceRef) {
        let bare = service.unplaced();
        for m in self.members.iter() {
            if service.place.as_ref().is_none_or(|p| p == &m.place) {
                m.source.forget_service(&bare);
            }
        }
    }

    fn forget_alarm(&self, name: &str) {
        for m in self.members.iter() {
            m.source.forget_alarm(name);
        }
    }

    async fn warm(&self) -> Result<(), OpsError> {
        // Every member renews what is due, a few at a time; one that fails keeps its last
        // good data and does not hold up the others. Not under the answer's deadline: a
        // refresh has no one waiting on it, and each member's calls have their own.
        let warming: Vec<_> = self.members.iter().map(|m| m.source.warm()).collect();
        let results: Vec<Result<(), OpsError>> = futures_util::stream::iter(warming)
            .buffer_unordered(self.concurrency.refresh)
            .collect()
            .await;
        results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
    }

    async fn ready(&self) -> Result<(), OpsError> {
        // Ready while any account answers: one account down makes answers partial, not
        // the instance unfit to serve.
        self.each(|m| m.source.ready()).await.map(|_| ())
    }
}

/// Every member's logs behind one [`super::logs::LogSource`]: a query goes to the member
/// its service is in, and only there (never another account's logs for a service).
#[derive(Debug, Clone)]
pub struct AccountsLogs {
    members: Arc<[(Place, Arc<dyn super::logs::LogSource>)]>,
}

impl AccountsLogs {
    /// The members' log sources, by place.
    #[must_use]
    pub fn new(members: Vec<(Place, Arc<dyn super::logs::LogSource>)>) -> Self {
        Self {
            members: members.into(),
        }
    }
}

#[async_trait]
impl super::logs::LogSource for AccountsLogs {
    async fn errors(
        &self,
        query: &super::logs::LogQuery,
    ) -> Result<super::logs::LogErrors, OpsError> {
        let member = match &query.service.place {
            Some(place) => self.members.iter().find(|(p, _)| p == place),
            None if self.members.len() == 1 => self.members.first(),
            None => None,
        };
        let Some((_, logs)) = member else {
            return Err(OpsError::Unavailable {
                api: "logs:StartQuery",
                source: Arc::new(std::io::Error::other(format!(
                    "{} is in no configured account and region",
                    query.service
                ))),
            });
        };
        let mut bare = query.clone();
        bare.service = query.service.unplaced();
        logs.errors(&bare).await
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn members(places: &[(&str, &str)]) -> Vec<Member> {
        let clock: Arc<dyn super::super::Clock> = Arc::new(super::super::SystemClock);
        places
            .iter()
            .map(|(account, region)| Member {
                place: Place::new(*account, *region),
                source: Arc::new(super::super::demo::DemoFleet::new(clock.clone())),
            })
            .collect()
    }

    #[test]
    fn a_member_counts_once_however_many_reads_and_others_wait_their_turn() {
        let members = members(&[("prod", "us-east-1"), ("staging", "us-east-1")]);
        let room = Room::new(
            &members,
            Concurrency {
                per_account: 8,
                answers: 1,
                refresh: 8,
            },
        );
        let services = room.enter(0, 1).now_or_never().expect("room for one");
        let alarms = room
            .enter(0, 1)
            .now_or_never()
            .expect("the same member: joins");
        assert!(room.enter(1, 1).now_or_never().is_none(), "bound 1: waits");
        drop(services);
        assert!(
            room.enter(1, 1).now_or_never().is_none(),
            "prod still has a read under way"
        );
        drop(alarms);
        assert!(room.enter(1, 1).now_or_never().is_some(), "prod is done");
    }

    #[test]
    fn a_listing_counts_as_its_calls_and_a_lighter_read_of_the_member_joins_it() {
        let members = members(&[("prod", "us-east-1"), ("staging", "us-east-1")]);
        let room = Room::new(
            &members,
            Concurrency {
                per_account: 8,
                answers: LISTING as usize + 1,
                refresh: 8,
            },
        );
        let listing = room.enter(0, LISTING).now_or_never().expect("room");
        let alarms = room.enter(0, 1).now_or_never().expect("lighter: joins");
        let other = room.enter(1, 1).now_or_never().expect("one call left");
        assert!(
            room.enter(1, LISTING).now_or_never().is_none(),
            "staging's listing needs 3 more"
        );
        drop((listing, alarms));
        assert!(room.enter(1, LISTING).now_or_never().is_some());
        drop(other);
    }

    #[test]
    fn an_account_has_at_most_its_bound_of_regions_asked_at_once() {
        let members = members(&[
            ("prod", "us-east-1"),
            ("prod", "eu-west-1"),
            ("staging", "us-east-1"),
        ]);
        let room = Room::new(
            &members,
            Concurrency {
                per_account: 1,
                answers: 8,
                refresh: 8,
            },
        );
        let east = room.enter(0, 1).now_or_never().expect("room");
        assert!(
            room.enter(1, 1).now_or_never().is_none(),
            "prod's other region waits"
        );
        let staging = room.enter(2, 1).now_or_never();
        assert!(staging.is_some(), "another account does not wait for prod");
        drop(east);
        assert!(room.enter(1, 1).now_or_never().is_some());
    }
}
