//! Speaking first: alarm and deployment events in (EventBridge through the Lambda entry, or
//! SNS through `POST /events`), cards out to Slack, and a log of what happened for
//! "what did I miss?".
//!
//! - [`event`] reads the wire shapes; [`sns`] verifies SNS deliveries; [`routes`] says which
//!   channel gets what, for which group; [`card`] writes the Block Kit.
//! - [`Notifier::accept`] records an event once (its id is claimed in the store), logs it
//!   for `WhatHappened`, and turns it into delivery jobs for every route whose group may
//!   see it. An alarm episode is one record per channel and alarm, created with a
//!   conditional write, so two processes never open it twice; repeats and flapping fold
//!   into its thread; OK edits its card.
//! - Jobs wait in the store ([`Job`]) and [`Notifier::deliver_due`] posts them. A job is
//!   leased (a conditional write) before it is posted, so two processes never post it
//!   twice; a post Slack refuses for now (429, 5xx, a timeout) is put back with backoff
//!   (or `Retry-After`), across restarts, until it is posted or an hour old. New episodes
//!   wait a few seconds first, so a burst becomes one summary card.

pub mod card;
pub mod event;
pub mod http;
pub mod routes;
pub mod sns;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use self::event::{AlarmChange, DeploymentChange, DeploymentOutcome, Event, State};
use self::routes::Routes;
use crate::channel::Assistant;
use crate::channel::slack::api::{SlackApiError, WebApi};
use crate::channel::slack::blocks::Message;
use crate::clock::Clock;
use crate::dialog::what_happened::{Happening, What, log_key};
use crate::dialog::{Intent, Mode, Slot, Turn};
use crate::ops::ServiceRef;
use crate::store::{Store, StoreError, epoch};

/// How long a new episode's card waits for others to arrive (a burst becomes one card).
pub const SETTLE: Duration = Duration::from_secs(3);
/// How many new episodes in one channel within [`SETTLE`] make a burst.
pub const BURST: usize = 3;
/// How long after a burst card new episodes in that channel fold into its thread.
pub const BURST_WINDOW: Duration = Duration::from_secs(60);
/// An alarm that fires again this soon after resolving continues its episode (flapping).
pub const FLAP_WINDOW: Duration = Duration::from_secs(15 * 60);
/// A post still undelivered this long after its event is dropped (too old to matter).
pub const MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// A post delivered this long after its event says it is late.
pub const LATE: Duration = Duration::from_secs(120);
/// How long a worker holds a job it is posting: longer than the most one job can take
/// (the answer deadline for the health line, the Web API's 15 s call budget, the store).
pub const LEASE: Duration = Duration::from_secs(120);
/// How long a worker may decide a channel's new cards.
pub const CARD_LOCK: Duration = LEASE;
/// How long events are remembered (for dedupe and for "what did I miss?").
pub const MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

pub use crate::channel::slack::mute_key;

/// What happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded, and jobs made for these many channels.
    Accepted(usize),
    /// Already seen (a repeated delivery).
    Duplicate,
    /// Being recorded by another delivery of the same event right now: the sender
    /// should retry (it will then be a duplicate, or, if that one died, recorded).
    Busy,
}

/// How long a claim on an event being recorded holds.
pub const RECORDING: Duration = Duration::from_secs(60);

/// An alarm episode in one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Episode {
    alarm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<ServiceRef>,
    firing: bool,
    opened_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolved_at: Option<i64>,
    /// The card's `ts`, once posted (for a burst, the summary's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ts: Option<String>,
    /// Whether the card is the summary's (then OK replies in the thread only).
    #[serde(default)]
    summarised: bool,
    fires: u32,
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
}

/// What a job posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Work {
    /// A new episode's card (or its place in a burst).
    Card { episode: String },
    /// The episode's card edited to its current state.
    Update { episode: String },
    /// A reply in the episode's thread.
    Reply { episode: String, text: String },
    /// A failed or rolled-back deployment's card.
    Deployment {
        cluster: String,
        service: String,
        rolled_back: bool,
        deployment: String,
        reason: String,
    },
}

/// A delivery job, kept in the store until it is posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    id: String,
    channel: String,
    group: String,
    work: Work,
    /// Milliseconds since the epoch.
    created: i64,
    due: i64,
    lease: i64,
    attempts: u32,
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Why a job could not be done now.
enum Failed {
    /// Try again after this long.
    Later(Duration),
    /// Give up: it can never be posted (a channel we are not in, a bad token).
    Never(String),
}

impl From<SlackApiError> for Failed {
    fn from(error: SlackApiError) -> Self {
        match error {
            SlackApiError::RateLimited { retry_after, .. } => Failed::Later(retry_after),
            SlackApiError::Unreachable { .. } => Failed::Later(Duration::from_secs(5)),
            other => Failed::Never(other.to_string()),
        }
    }
}

impl From<StoreError> for Failed {
    fn from(_: StoreError) -> Self {
        Failed::Later(Duration::from_secs(2))
    }
}

/// The notifier.
pub struct Notifier {
    pub routes: Routes,
    store: Arc<dyn Store>,
    api: WebApi,
    assistant: Arc<Assistant>,
    clock: Arc<dyn Clock>,
    /// Deliver before answering (Lambda freezes the process once it has answered).
    pub inline: bool,
    wake: tokio::sync::Notify,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("routes", &self.routes.0.len())
            .finish_non_exhaustive()
    }
}

fn count(source: &'static str, kind: &str, outcome: &'static str) {
    metrics::counter!("opsvoice_events_total", "source" => source, "kind" => kind.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Counts and logs an event that cannot be used: never dropped silently.
pub fn unusable(error: &event::Unusable) {
    count(error.source_label, "unusable", "unusable");
    tracing::warn!(source = error.source_label, kind = %error.kind, why = %error.why, "event not used");
}

impl Notifier {
    #[must_use]
    pub fn new(
        routes: Routes,
        store: Arc<dyn Store>,
        api: WebApi,
        assistant: Arc<Assistant>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            routes,
            store,
            api,
            assistant,
            clock,
            inline: false,
            wake: tokio::sync::Notify::new(),
        }
    }

    /// After an event is accepted: wakes the delivery loop (`serve`), or delivers now, for
    /// as long as a new card waits for a burst (Lambda).
    pub async fn deliver_soon(&self) {
        if self.inline {
            self.drain(SETTLE + Duration::from_secs(2)).await;
        } else {
            self.wake.notify_one();
        }
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Records `event` (once, however often it is delivered) and makes its jobs.
    ///
    /// # Errors
    /// A store that fails: the event is not acknowledged, so its sender delivers it again.
    pub async fn accept(&self, source: &'static str, event: Event) -> Result<Outcome, StoreError> {
        let now = self.now();
        let kind = event.kind();
        let claim = format!("event#{}", event.id());
        if !self
            .store
            .create(&claim, "recording", now + RECORDING)
            .await?
        {
            return Ok(match self.store.get(&claim).await?.as_deref() {
                Some("recording") | None => Outcome::Busy,
                _ => {
                    count(source, kind, "duplicate");
                    Outcome::Duplicate
                }
            });
        }
        let made = match self.record(event).await {
            Ok(made) => made,
            Err(error) => {
                // Not recorded: release the claim, so the sender's retry is taken.
                let _ = self.store.delete(&claim).await;
                return Err(error);
            }
        };
        // Recorded: a failure to say so must not make the sender record it again.
        for _ in 0..2 {
            if self
                .store
                .put(&claim, "recorded", self.now() + MEMORY)
                .await
                .is_ok()
            {
                break;
            }
            tracing::warn!("an event was recorded but its claim could not be marked");
        }
        count(source, kind, "accepted");
        Ok(Outcome::Accepted(made))
    }

    async fn record(&self, event: Event) -> Result<usize, StoreError> {
        Ok(match event {
            Event::Alarm(change) => self.alarm(change).await?,
            Event::Deployment(change) => self.deployment(change).await?,
            Event::ServiceAction(action) => {
                let what = if action.severity == "INFO" {
                    None
                } else {
                    Some(What::ServiceWarning)
                };
                if let Some(what) = what {
                    self.log(Happening {
                        at: epoch(action.at),
                        what,
                        subject: action.name.clone(),
                        service: Some(ServiceRef::new(
                            action.cluster.clone(),
                            action.service.clone(),
                        )),
                    })
                    .await?;
                }
                0
            }
        })
    }

    async fn log(&self, happening: Happening) -> Result<(), StoreError> {
        let key = log_key(&happening, &uuid::Uuid::new_v4().to_string());
        let value = serde_json::to_string(&happening).unwrap_or_default();
        self.store.put(&key, &value, self.now() + MEMORY).await
    }

    /// The service an alarm is tied to, as the data source associates it.
    async fn alarm_service(&self, alarm: &str) -> Option<ServiceRef> {
        let ops = self.assistant.dialog.ops();
        match tokio::time::timeout(Duration::from_secs(2), ops.alarm(alarm)).await {
            Ok(Ok(Some(detail))) => detail.alarm.service,
            Ok(Ok(None)) => None,
            Ok(Err(error)) => {
                tracing::warn!(error = %crate::error::ErrorChain(&error), "the alarm's service is unknown");
                None
            }
            Err(_) => None,
        }
    }

    async fn muted(&self, channel: &str, subject: &str) -> bool {
        matches!(
            self.store.get(&mute_key(channel, subject)).await,
            Ok(Some(_))
        )
    }

    async fn enqueue(
        &self,
        channel: &str,
        group: &str,
        work: Work,
        delay: Duration,
    ) -> Result<(), StoreError> {
        self.enqueue_as(None, channel, group, work, delay).await
    }

    /// Queues `work`; with an `id`, at most once (a second enqueue of the same id, from a
    /// retried event, finds it there).
    async fn enqueue_as(
        &self,
        id: Option<String>,
        channel: &str,
        group: &str,
        work: Work,
        delay: Duration,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let once = id.is_some();
        let job = Job {
            id: id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            channel: channel.to_owned(),
            group: group.to_owned(),
            work,
            created: millis(now),
            due: millis(now + delay),
            lease: 0,
            attempts: 0,
        };
        let key = format!("job#{}", job.id);
        let value = serde_json::to_string(&job).unwrap_or_default();
        if once {
            self.store
                .create(&key, &value, now + MAX_AGE + LEASE)
                .await
                .map(|_| ())
        } else {
            self.store.put(&key, &value, now + MAX_AGE + LEASE).await
        }
    }

    async fn alarm(&self, change: AlarmChange) -> Result<usize, StoreError> {
        let service = self.alarm_service(&change.alarm).await;
        let what = match change.state {
            State::Alarm => Some(What::AlarmFired),
            State::Ok if change.previous == Some(State::Alarm) => Some(What::AlarmResolved),
            _ => None,
        };
        if let Some(what) = what {
            self.log(Happening {
                at: epoch(change.at),
                what,
                subject: change.alarm.clone(),
                service: service.clone(),
            })
            .await?;
        }
        let placed = service
            .as_ref()
            .map(|s| (s.cluster.as_str(), s.name.as_str()));
        let policy = self.assistant.identity.policy();
        let mut made = 0;
        for route in &self.routes.0 {
            if !route.wants_alarm(&change.alarm, placed) {
                continue;
            }
            let grants = policy.group_grants(&route.group);
            let allowed = match &service {
                Some(s) => grants.service(Intent::ActiveAlarms, s),
                None => grants.everything(Intent::ActiveAlarms),
            };
            if !allowed {
                tracing::debug!(
                    route = route.number,
                    "the route's group may not see this alarm"
                );
                continue;
            }
            let subject = service.as_ref().map_or_else(
                || format!("alarm:{}", change.alarm),
                |s| format!("{}/{}", s.cluster, s.name),
            );
            if self.muted(&route.channel, &subject).await {
                count("notify", "alarm", "muted");
                continue;
            }
            if self
                .episode(&route.channel, &route.group, &change, service.as_ref())
                .await?
            {
                made += 1;
            }
        }
        Ok(made)
    }

    /// Moves the channel's episode for `change.alarm` on; whether a job was made.
    async fn episode(
        &self,
        channel: &str,
        group: &str,
        change: &AlarmChange,
        service: Option<&ServiceRef>,
    ) -> Result<bool, StoreError> {
        let key = format!("episode#{channel}#{}", change.alarm);
        let now = self.now();
        let keep = now + MEMORY;
        for _ in 0..5 {
            let current = self.store.get(&key).await?;
            let episode: Option<Episode> = current
                .as_deref()
                .and_then(|v| serde_json::from_str(v).ok());
            match (change.state, episode) {
                (State::Alarm, None) => {
                    let fresh = Episode {
                        alarm: change.alarm.clone(),
                        service: service.cloned(),
                        firing: true,
                        opened_at: epoch(change.at.max(SystemTime::UNIX_EPOCH)),
                        resolved_at: None,
                        ts: None,
                        summarised: false,
                        fires: 1,
                        reason: change.reason.clone(),
                        metric: change.metric.clone(),
                    };
                    let value = serde_json::to_string(&fresh).unwrap_or_default();
                    if self.store.create(&key, &value, keep).await? {
                        self.card_job(channel, group, &key, fresh.opened_at).await?;
                        return Ok(true);
                    }
                }
                (State::Alarm, Some(mut episode)) => {
                    let recently = episode
                        .resolved_at
                        .is_none_or(|at| epoch(now) - at <= FLAP_WINDOW.as_secs() as i64);
                    if !episode.firing && !recently {
                        // Resolved long ago: a new episode.
                        self.store.delete(&key).await?;
                        continue;
                    }
                    if episode.firing && episode.ts.is_none() {
                        // Its card is not posted yet (it is settling, or the event that
                        // opened it died before queueing it): the card will say the
                        // latest, and it is queued (at most once).
                        let opened_at = episode.opened_at;
                        episode.fires += 1;
                        episode.reason = change.reason.clone();
                        let value = serde_json::to_string(&episode).unwrap_or_default();
                        if self
                            .store
                            .replace(&key, current.as_deref().unwrap_or_default(), &value, keep)
                            .await?
                        {
                            self.card_job(channel, group, &key, opened_at).await?;
                            return Ok(true);
                        }
                        continue;
                    }
                    let was_firing = episode.firing;
                    episode.firing = true;
                    episode.resolved_at = None;
                    episode.fires += 1;
                    episode.reason = change.reason.clone();
                    let value = serde_json::to_string(&episode).unwrap_or_default();
                    if self
                        .store
                        .replace(&key, current.as_deref().unwrap_or_default(), &value, keep)
                        .await?
                    {
                        let text = if was_firing {
                            format!("Still firing: {}", change.reason)
                        } else {
                            format!(
                                "Firing again ({} times in this episode): {}",
                                episode.fires, change.reason
                            )
                        };
                        self.enqueue(
                            channel,
                            group,
                            Work::Reply {
                                episode: key.clone(),
                                text,
                            },
                            Duration::ZERO,
                        )
                        .await?;
                        if !was_firing {
                            self.enqueue(
                                channel,
                                group,
                                Work::Update { episode: key },
                                Duration::ZERO,
                            )
                            .await?;
                        }
                        return Ok(true);
                    }
                }
                (State::Ok, Some(mut episode)) if episode.firing => {
                    episode.firing = false;
                    episode.resolved_at =
                        Some(epoch(change.at.max(SystemTime::UNIX_EPOCH)).max(episode.opened_at));
                    let value = serde_json::to_string(&episode).unwrap_or_default();
                    if self
                        .store
                        .replace(&key, current.as_deref().unwrap_or_default(), &value, keep)
                        .await?
                    {
                        let minutes = resolved_minutes(&episode);
                        let text = format!("Resolved after {}.", card::minutes(minutes));
                        self.enqueue(
                            channel,
                            group,
                            Work::Reply {
                                episode: key.clone(),
                                text,
                            },
                            Duration::ZERO,
                        )
                        .await?;
                        self.enqueue(
                            channel,
                            group,
                            Work::Update { episode: key },
                            Duration::ZERO,
                        )
                        .await?;
                        return Ok(true);
                    }
                }
                // OK with no episode open here, or INSUFFICIENT_DATA: nothing to say.
                _ => return Ok(false),
            }
        }
        tracing::warn!("an alarm episode kept changing under us; this event was not posted");
        Ok(false)
    }

    /// The card job of the episode at `key` opened at `opened_at`, queued at most once.
    async fn card_job(
        &self,
        channel: &str,
        group: &str,
        key: &str,
        opened_at: i64,
    ) -> Result<(), StoreError> {
        let id = format!("card:{}:{opened_at}", key.trim_start_matches("episode#"));
        self.enqueue_as(
            Some(id),
            channel,
            group,
            Work::Card {
                episode: key.to_owned(),
            },
            SETTLE,
        )
        .await
    }

    async fn deployment(&self, change: DeploymentChange) -> Result<usize, StoreError> {
        let what = match change.outcome {
            DeploymentOutcome::Failed => Some(What::DeploymentFailed),
            DeploymentOutcome::RolledBack => Some(What::DeploymentRolledBack),
            DeploymentOutcome::Completed => Some(What::DeploymentCompleted),
            DeploymentOutcome::InProgress => None,
        };
        if let Some(what) = what {
            self.log(Happening {
                at: epoch(change.at),
                what,
                subject: change.service.clone(),
                service: Some(ServiceRef::new(
                    change.cluster.clone(),
                    change.service.clone(),
                )),
            })
            .await?;
        }
        let rolled_back = match change.outcome {
            DeploymentOutcome::Failed => false,
            DeploymentOutcome::RolledBack => true,
            _ => return Ok(0),
        };
        let service = ServiceRef::new(change.cluster.clone(), change.service.clone());
        let policy = self.assistant.identity.policy();
        let mut made = 0;
        for route in &self.routes.0 {
            if !route.wants_deployment(&change.cluster, &change.service)
                || !policy
                    .group_grants(&route.group)
                    .service(Intent::DeploymentStatus, &service)
            {
                continue;
            }
            if self
                .muted(
                    &route.channel,
                    &format!("{}/{}", change.cluster, change.service),
                )
                .await
            {
                count("notify", "deployment", "muted");
                continue;
            }
            let id = format!(
                "deployment:{}:{}:{rolled_back}",
                route.channel, change.deployment
            );
            // Once per deployment and outcome per channel for a day, whichever event says
            // it (the job itself is gone once posted).
            let once = format!("once#{id}");
            if self.store.get(&once).await?.is_some() {
                continue;
            }
            self.enqueue_as(
                Some(id),
                &route.channel,
                &route.group,
                Work::Deployment {
                    cluster: change.cluster.clone(),
                    service: change.service.clone(),
                    rolled_back,
                    deployment: change.deployment.clone(),
                    reason: change.reason.clone(),
                },
                Duration::ZERO,
            )
            .await?;
            self.store.put(&once, "1", self.now() + MEMORY).await?;
            made += 1;
        }
        Ok(made)
    }

    /// Posts every job that is due and not held by another worker; how many were posted.
    pub async fn deliver_due(&self) -> usize {
        let jobs = match self.store.list("job#").await {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::warn!(%error, "the delivery queue cannot be read; trying again shortly");
                return 0;
            }
        };
        let now = millis(self.now());
        let mut due: Vec<(String, String, Job)> = jobs
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_str::<Job>(&v).ok().map(|j| (k, v, j)))
            .filter(|(_, _, j)| j.due <= now && j.lease <= now)
            .collect();
        // Oldest first, so a thread's replies keep their order.
        due.sort_by_key(|(_, _, j)| (j.created, j.id.clone()));
        let mut posted = 0;
        for (key, raw, job) in due {
            let mut held = job.clone();
            held.lease = millis(self.now()) + LEASE.as_millis() as i64;
            let held_raw = serde_json::to_string(&held).unwrap_or_default();
            let keep = self.now() + MAX_AGE + LEASE;
            match self.store.replace(&key, &raw, &held_raw, keep).await {
                Ok(true) => {}
                _ => continue,
            }
            if now - job.created > MAX_AGE.as_millis() as i64 {
                count("notify", "post", "expired");
                tracing::warn!(channel = %job.channel, "a notification was never delivered within an hour; dropped");
                let _ = self.store.delete(&key).await;
                continue;
            }
            match self.run(&job).await {
                Ok(()) => {
                    posted += 1;
                    count("notify", "post", "posted");
                    let _ = self.store.delete(&key).await;
                }
                Err(Failed::Later(wait)) => {
                    count("notify", "post", "retried");
                    let mut again = job.clone();
                    again.attempts += 1;
                    let backoff =
                        wait.max(Duration::from_millis(500 * 2u64.pow(again.attempts.min(6))));
                    again.due = millis(self.now() + backoff);
                    again.lease = 0;
                    let value = serde_json::to_string(&again).unwrap_or_default();
                    let _ = self.store.replace(&key, &held_raw, &value, keep).await;
                }
                Err(Failed::Never(why)) => {
                    count("notify", "post", "refused");
                    tracing::warn!(channel = %job.channel, %why, "a notification can never be posted; dropped");
                    let _ = self.store.delete(&key).await;
                }
            }
        }
        posted
    }

    /// Delivers due jobs now and then (about every `every`) until `stop` resolves.
    pub async fn keep_delivering(
        self: Arc<Self>,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let mut stop = std::pin::pin!(stop);
        loop {
            self.deliver_due().await;
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.wake.notified() => {}
                () = &mut stop => break,
            }
        }
    }

    /// Delivers until nothing is due before `until` (Lambda: before the invocation ends).
    pub async fn drain(&self, within: Duration) {
        let started = std::time::Instant::now();
        loop {
            self.deliver_due().await;
            let pending = self.store.list("job#").await.unwrap_or_default();
            if pending.is_empty() || started.elapsed() + Duration::from_millis(500) >= within {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn run(&self, job: &Job) -> Result<(), Failed> {
        let late = {
            let age = millis(self.now()) - job.created;
            (age > LATE.as_millis() as i64).then_some((age / 1000) as u64)
        };
        match &job.work {
            Work::Card { episode } => self.card(job, episode, late).await,
            Work::Update { episode } => self.update(job, episode).await,
            Work::Reply { episode, text } => {
                let Some((ep, _)) = self.load(episode).await? else {
                    return Ok(());
                };
                let Some(thread) = ep.ts else {
                    // The card is not posted yet: wait for it.
                    return Err(Failed::Later(Duration::from_secs(1)));
                };
                let mut text = text.clone();
                if let Some(late) = late {
                    text.push_str(&format!(
                        " (posted {} late)",
                        card::minutes(late.div_ceil(60).max(1))
                    ));
                }
                self.post(
                    &job.channel,
                    Some(&thread),
                    &crate::channel::slack::blocks::notice(&text),
                )
                .await
                .map(|_| ())
            }
            Work::Deployment {
                cluster,
                service,
                rolled_back,
                deployment,
                reason,
            } => {
                let message = card::deployment(cluster, service, *rolled_back, deployment, reason);
                self.post(&job.channel, None, &message).await.map(|_| ())
            }
        }
    }

    async fn load(&self, key: &str) -> Result<Option<(Episode, String)>, Failed> {
        let raw = self.store.get(key).await?;
        Ok(raw.and_then(|raw| serde_json::from_str(&raw).ok().map(|e| (e, raw))))
    }

    async fn save(&self, key: &str, raw: &str, episode: &Episode) -> Result<bool, Failed> {
        let value = serde_json::to_string(episode).unwrap_or_default();
        Ok(self
            .store
            .replace(key, raw, &value, self.now() + MEMORY)
            .await?)
    }

    async fn post(
        &self,
        channel: &str,
        thread: Option<&str>,
        message: &Message,
    ) -> Result<String, Failed> {
        let mut body = message.fields();
        body.insert("channel".to_owned(), json!(channel));
        if let Some(thread) = thread {
            body.insert("thread_ts".to_owned(), json!(thread));
        }
        let answer = self
            .api
            .call("chat.postMessage", &Value::Object(body))
            .await?;
        Ok(answer
            .get("ts")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// A new episode's card: alone, folded into a burst summary's thread, or as part of a
    /// new summary when others arrived with it.
    async fn card(&self, job: &Job, key: &str, late: Option<u64>) -> Result<(), Failed> {
        // One worker at a time decides a channel's new cards (alone, or as a burst), so
        // two workers never both post a summary, or a card the other folded.
        let lock = format!("card-lock#{}", job.channel);
        if !self
            .store
            .create(&lock, &job.id, self.now() + CARD_LOCK)
            .await?
        {
            return Err(Failed::Later(Duration::from_millis(500)));
        }
        let result = self.card_locked(job, key, late).await;
        // Released only if still ours.
        let _ = self
            .store
            .replace(&lock, &job.id, "released", self.now())
            .await;
        result
    }

    async fn card_locked(&self, job: &Job, key: &str, late: Option<u64>) -> Result<(), Failed> {
        let Some((episode, raw)) = self.load(key).await? else {
            return Ok(());
        };
        if episode.ts.is_some() {
            return Ok(());
        }
        let burst_key = format!("burst#{}", job.channel);
        if let Some(summary) = self.store.get(&burst_key).await? {
            // A burst is under way: this alarm joins the summary's thread.
            let text = format!("Also firing: {}. {}", episode.alarm, episode.reason);
            self.post(
                &job.channel,
                Some(&summary),
                &crate::channel::slack::blocks::notice(&text),
            )
            .await?;
            self.posted_ts(key, &summary, true).await;
            return Ok(());
        }
        // Others waiting in this channel from the same few seconds, not held elsewhere.
        let now = millis(self.now());
        let mut waiting = Vec::new();
        for (jk, jv) in self.store.list("job#").await? {
            let Ok(other) = serde_json::from_str::<Job>(&jv) else {
                continue;
            };
            if other.id == job.id || other.channel != job.channel || other.lease > now {
                continue;
            }
            let near = (other.created - job.created).abs() <= (SETTLE.as_millis() as i64) * 2;
            if let Work::Card { episode: other_key } = other.work.clone()
                && near
            {
                waiting.push((jk, jv, other, other_key));
            }
        }
        if waiting.len() + 1 >= BURST {
            // Hold the others' jobs while the summary is posted; give them back if it fails.
            let mut names = vec![episode.alarm.clone()];
            let mut members = vec![key.to_owned()];
            let mut held = Vec::new();
            for (jk, jv, other, other_key) in waiting {
                let mut leased = other.clone();
                leased.lease = millis(self.now()) + LEASE.as_millis() as i64;
                let leased_raw = serde_json::to_string(&leased).unwrap_or_default();
                let keep = self.now() + MAX_AGE + LEASE;
                if !self.store.replace(&jk, &jv, &leased_raw, keep).await? {
                    continue;
                }
                if let Some((other_episode, _)) = self.load(&other_key).await? {
                    names.push(other_episode.alarm.clone());
                    members.push(other_key);
                }
                held.push((jk, jv, leased_raw));
            }
            let ts = match self.post(&job.channel, None, &card::burst(&names)).await {
                Ok(ts) => ts,
                Err(failed) => {
                    for (jk, jv, leased_raw) in &held {
                        let _ = self
                            .store
                            .replace(jk, leased_raw, jv, self.now() + MAX_AGE + LEASE)
                            .await;
                    }
                    return Err(failed);
                }
            };
            let _ = self
                .store
                .put(&burst_key, &ts, self.now() + BURST_WINDOW)
                .await;
            for member in &members {
                self.posted_ts(member, &ts, true).await;
            }
            for (jk, ..) in held {
                let _ = self.store.delete(&jk).await;
            }
            return Ok(());
        }
        let message = self.alarm_card(&job.group, &episode, late).await.message();
        let ts = self.post(&job.channel, None, &message).await?;
        let _ = raw;
        self.posted_ts(key, &ts, false).await;
        Ok(())
    }

    /// Records a posted card's `ts` on its episode. Slack has taken the post, so a store
    /// failure here is retried a little and then logged, never answered by posting again.
    async fn posted_ts(&self, key: &str, ts: &str, summarised: bool) {
        for attempt in 0..3 {
            match self.set_ts(key, ts, summarised).await {
                Ok(()) => return,
                Err(_) if attempt < 2 => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(_) => {}
            }
        }
        count("notify", "post", "ts_lost");
        tracing::warn!("a card was posted but its ts could not be recorded");
    }

    /// Puts the card's `ts` on the episode's newest state (it may have moved on while the
    /// card was posted: resolved, or fired again).
    async fn set_ts(&self, key: &str, ts: &str, summarised: bool) -> Result<(), Failed> {
        for _ in 0..5 {
            let Some((mut episode, raw)) = self.load(key).await? else {
                return Ok(());
            };
            episode.ts = Some(ts.to_owned());
            episode.summarised = summarised;
            if self.save(key, &raw, &episode).await? {
                return Ok(());
            }
        }
        Err(Failed::Later(Duration::from_secs(1)))
    }

    async fn update(&self, job: &Job, key: &str) -> Result<(), Failed> {
        let Some((episode, _)) = self.load(key).await? else {
            return Ok(());
        };
        let Some(ts) = episode.ts.clone() else {
            return Err(Failed::Later(Duration::from_secs(1)));
        };
        if episode.summarised {
            // A summary card stays as it is; the thread says what changed.
            return Ok(());
        }
        let message = self.alarm_card(&job.group, &episode, None).await.message();
        let mut body = message.fields();
        body.insert("channel".to_owned(), json!(job.channel));
        body.insert("ts".to_owned(), json!(ts));
        self.api.call("chat.update", &Value::Object(body)).await?;
        Ok(())
    }

    /// The card for `episode`, with the service's health and recent changes as `group`
    /// may see them.
    async fn alarm_card(
        &self,
        group: &str,
        episode: &Episode,
        late: Option<u64>,
    ) -> card::AlarmCard {
        let resolved_after = (!episode.firing).then(|| resolved_minutes(episode));
        let grants = self.assistant.identity.policy().group_grants(group);
        let (health, changed) = match (&episode.service, episode.firing) {
            (Some(service), true) => (
                if grants.service(Intent::ServiceHealth, service) {
                    self.health(group, service).await
                } else {
                    None
                },
                if grants.service(Intent::WhatChanged, service) {
                    self.changed(service).await
                } else {
                    None
                },
            ),
            _ => (None, None),
        };
        let subject = episode
            .service
            .as_ref()
            .map_or(episode.alarm.as_str(), |s| s.name.as_str());
        let metric = episode
            .metric
            .as_deref()
            .and_then(|m| m.rsplit('/').next())
            .map_or("metric".to_owned(), metric_words);
        card::AlarmCard {
            alarm: episode.alarm.clone(),
            resolved_after,
            what: card::in_words(subject, &metric, &episode.reason)
                .unwrap_or_else(|| episode.reason.clone()),
            health,
            changed,
            service: episode
                .service
                .as_ref()
                .map(|s| (s.cluster.clone(), s.name.clone())),
            fires: episode.fires,
            late_by: late,
        }
    }

    /// The service's health verdict, as the route's group would be told it.
    async fn health(&self, group: &str, service: &ServiceRef) -> Option<String> {
        let mut turn = Turn::new(Intent::ServiceHealth, Mode::Text);
        turn.slots.insert(Slot::Service, service.name.clone());
        turn.slots.insert(Slot::Cluster, service.cluster.clone());
        turn.grants = self.assistant.identity.policy().group_grants(group);
        turn.surface.platform = Some("Slack".to_owned());
        let exchange = self
            .assistant
            .converse(turn, crate::speech::Forms::Text)
            .await;
        exchange.rendered.text_sentences.first().cloned()
    }

    /// What changed on the service in the last hour.
    async fn changed(&self, service: &ServiceRef) -> Option<String> {
        let ops = self.assistant.dialog.ops();
        let since = self.now() - Duration::from_secs(3600);
        let records =
            tokio::time::timeout(Duration::from_secs(2), ops.service_deployments(service))
                .await
                .ok()?
                .ok()?;
        let recent: Vec<_> = crate::ops::changed_since(records, since);
        Some(match recent.first() {
            None => "No deployments in the last hour.".to_owned(),
            Some(d) => {
                let ago = crate::clock::age(self.now(), d.started_at).as_secs() / 60;
                let outcome = match d.outcome {
                    crate::ops::DeploymentOutcome::InProgress => "still rolling out",
                    crate::ops::DeploymentOutcome::Succeeded => "completed",
                    crate::ops::DeploymentOutcome::Failed => "failed",
                    crate::ops::DeploymentOutcome::RolledBack => "rolled back",
                };
                format!(
                    "Last hour: {} deployed {} ago, {outcome}{}.",
                    d.task_definition,
                    card::minutes(ago),
                    if recent.len() > 1 {
                        format!(" ({} deployments in all)", recent.len())
                    } else {
                        String::new()
                    }
                )
            }
        })
    }
}

fn resolved_minutes(episode: &Episode) -> u64 {
    let secs = episode.resolved_at.unwrap_or(episode.opened_at) - episode.opened_at;
    u64::try_from(secs.max(0)).unwrap_or(0).div_ceil(60).max(1)
}

/// A CloudWatch metric name as people say it.
fn metric_words(name: &str) -> String {
    match name {
        "CPUUtilization" => "CPU".to_owned(),
        "MemoryUtilization" => "memory".to_owned(),
        "TargetResponseTime" => "latency".to_owned(),
        "HTTPCode_Target_5XX_Count" | "HTTPCode_ELB_5XX_Count" => "5xx errors".to_owned(),
        "RequestCount" => "request count".to_owned(),
        other => other.to_owned(),
    }
}
