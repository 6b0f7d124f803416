//! Taking events in: each recorded once (its id claimed in the store), logged in the event
//! log, and turned into delivery jobs for every route whose group may see it. An alarm
//! episode is one record per channel and alarm, created with a conditional write; repeats
//! and flapping fold into its thread, and OK edits its card.

use std::time::{Duration, SystemTime};

use super::card::Deployed;
use super::event::{AlarmChange, DeploymentChange, DeploymentOutcome, Event, State};
use super::origin::Origin;
use super::queue::Work;
use super::{
    Episode, FLAP_WINDOW, MEMORY, Notifier, Outcome, RECORDING, SETTLE, card, count,
    resolved_minutes, scoped, skipped,
};
use crate::dialog::Intent;
use crate::eventlog::{self, Happening, What};
use crate::ops::ServiceRef;
use crate::speech::render::{n, s};
use crate::store::record;
use crate::store::{Key, Prefix, StoreError, epoch};

impl Notifier {
    /// Records `event` (once, however often it is delivered) and makes its jobs.
    ///
    /// # Errors
    /// A store that fails: the event is not acknowledged, so its sender delivers it again.
    pub async fn accept(&self, source: &'static str, event: Event) -> Result<Outcome, StoreError> {
        let now = self.now();
        let kind = event.kind();
        // With accounts configured, an event keeps its account and region; one from an
        // account the file does not list is nobody's to see, so it is not posted.
        let origin = match &self.accounts {
            None => None,
            Some(accounts) => {
                let (account, region) = event.origin();
                match accounts.resolve(account, region, event.cluster()) {
                    Some(origin) => Some(origin),
                    None => {
                        count(source, kind, "unknown_account");
                        metrics::counter!("opsvoice_events_skipped_total", "kind" => kind, "reason" => "unknown_account")
                            .increment(1);
                        tracing::warn!(
                            via = source,
                            kind,
                            account = account.unwrap_or("none"),
                            "an event from an account not in the accounts file was dropped"
                        );
                        return Ok(Outcome::UnknownAccount);
                    }
                }
            }
        };
        // The account is part of the claim: two accounts' events are never one.
        let claim = Key::event(&match &origin {
            None => event.id().to_owned(),
            Some(o) => format!("{}#{}", o.id, event.id()),
        });
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
        let made = match self.record(event, origin.as_ref()).await {
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

    async fn record(&self, event: Event, origin: Option<&Origin>) -> Result<usize, StoreError> {
        Ok(match event {
            Event::Alarm(change) => self.alarm(change, origin).await?,
            Event::Deployment(change) => self.deployment(change, origin).await?,
            Event::ServiceAction(action) => {
                let what = if action.severity == "INFO" {
                    None
                } else {
                    Some(What::ServiceWarning)
                };
                if let Some(what) = what {
                    self.log(Happening {
                        acted: None,
                        at: epoch(action.at),
                        what,
                        subject: action.name.clone(),
                        service: Some(ServiceRef::new(
                            action.cluster.clone(),
                            action.service.clone(),
                        )),
                        by: None,
                        account: origin.map(|o| o.account.clone()),
                    })
                    .await?;
                }
                skipped("service_action", "log_only", &action.name);
                0
            }
        })
    }

    async fn log(&self, happening: Happening) -> Result<(), StoreError> {
        eventlog::append(self.store.as_ref(), &happening, self.now() + MEMORY).await
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
            self.store.get(&Key::mute(channel, subject)).await,
            Ok(Some(_))
        )
    }

    async fn alarm(
        &self,
        change: AlarmChange,
        origin: Option<&Origin>,
    ) -> Result<usize, StoreError> {
        // The event's own metric dimensions place it; CloudWatch is asked only for what
        // they lack (an alarm in another account, or deleted since, is found by neither,
        // so the event's word comes first). A lookup that names another cluster than the
        // event's is not believed. With accounts configured a lookup by name could answer
        // from another account, so the event's word is all there is.
        let service = match &change.service {
            Some(service) => Some(service.clone()),
            None if origin.is_some() => None,
            None => self
                .alarm_service(&change.alarm)
                .await
                .filter(|s| change.cluster.as_ref().is_none_or(|c| *c == s.cluster)),
        };
        let what = match change.state {
            State::Alarm => Some(What::AlarmFired),
            State::Ok if change.previous == Some(State::Alarm) => Some(What::AlarmResolved),
            _ => None,
        };
        if let Some(what) = what {
            self.log(Happening {
                acted: None,
                at: epoch(change.at),
                what,
                subject: change.alarm.clone(),
                service: service.clone(),
                by: None,
                account: origin.map(|o| o.account.clone()),
            })
            .await?;
        }
        if change.state == State::InsufficientData {
            skipped("alarm", "state", &change.alarm);
            return Ok(0);
        }
        // While the suppressor alarm is in ALARM the alarm's own actions are off, and so
        // is its card; in a wait or extension period the card says it is suppressed.
        if change
            .suppressed
            .as_ref()
            .is_some_and(|s| s.by.eq_ignore_ascii_case("Alarm"))
        {
            skipped("alarm", "suppressed", &change.alarm);
            return Ok(0);
        }
        let placed = service
            .as_ref()
            .map(|s| (s.cluster.as_str(), s.name.as_str()));
        let policy = self.assistant.identity.policy();
        let mut made = 0;
        let mut why = Why::default();
        let account = origin.map(|o| o.account.as_str());
        for route in &self.routes.0 {
            if !route.wants_alarm(&change.alarm, placed) || !route.wants_account(account) {
                tracing::debug!(route = route.number, "the route does not take this alarm");
                continue;
            }
            let allowed = policy.group_grants(&route.group).sees_in(
                Intent::ActiveAlarms,
                account,
                service.as_ref(),
            );
            if !allowed {
                tracing::debug!(
                    route = route.number,
                    "the route's group may not see this alarm"
                );
                why.denied = true;
                continue;
            }
            let subject = card::mute_subject(origin, &change.alarm, service.as_ref());
            if self.muted(&route.channel, &subject).await {
                count("notify", "alarm", "muted");
                why.muted = true;
                continue;
            }
            why.wanted = true;
            if self
                .episode(
                    &route.channel,
                    &route.group,
                    &change,
                    service.as_ref(),
                    origin,
                )
                .await?
            {
                made += 1;
            }
        }
        if made == 0 {
            skipped("alarm", why.reason(), &change.alarm);
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
        origin: Option<&Origin>,
    ) -> Result<bool, StoreError> {
        let key = Key::episode(channel, &scoped(origin, &change.alarm));
        let now = self.now();
        let keep = now + MEMORY;
        for _ in 0..5 {
            let current = self.store.get(&key).await?;
            let episode: Option<Episode> = match current.as_deref().map(record::decode) {
                None => None,
                Some(Ok(episode)) => Some(episode),
                // Written by a newer release (a rolling upgrade): not ours to read or
                // overwrite; that release posts this alarm's cards.
                Some(Err(error @ record::RecordError::TooNew { .. })) => {
                    tracing::warn!(%error, alarm = %change.alarm, "this alarm's episode is left to a newer release");
                    return Ok(false);
                }
                // Damaged: dropped, and a fresh episode starts.
                Some(Err(error)) => {
                    tracing::warn!(%error, alarm = %change.alarm, "a damaged alarm episode is dropped");
                    self.store.delete(&key).await?;
                    continue;
                }
            };
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
                        expression: change.expression.clone(),
                        suppressed: change.suppressed.clone(),
                        origin: origin.cloned(),
                    };
                    let value = record::encode(&fresh);
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
                        episode.suppressed = change.suppressed.clone();
                        let value = record::encode(&episode);
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
                    episode.suppressed = change.suppressed.clone();
                    let value = record::encode(&episode);
                    if self
                        .store
                        .replace(&key, current.as_deref().unwrap_or_default(), &value, keep)
                        .await?
                    {
                        let text = if was_firing {
                            self.say().msg(
                                "thread-still-firing",
                                [("reason", s(change.reason.clone()))],
                            )
                        } else {
                            self.say().msg(
                                "thread-firing-again",
                                [
                                    ("fires", n(episode.fires)),
                                    ("reason", s(change.reason.clone())),
                                ],
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
                    let value = record::encode(&episode);
                    if self
                        .store
                        .replace(&key, current.as_deref().unwrap_or_default(), &value, keep)
                        .await?
                    {
                        let minutes = resolved_minutes(&episode);
                        let say = self.say();
                        let text = say.msg(
                            "thread-resolved",
                            [("minutes", s(card::minutes(&say, minutes)))],
                        );
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
        key: &Key,
        opened_at: i64,
    ) -> Result<(), StoreError> {
        let id = format!(
            "card:{}:{opened_at}",
            key.after(Prefix::EPISODES).unwrap_or(key.as_str())
        );
        self.enqueue_as(
            Some(id),
            channel,
            group,
            Work::Card {
                episode: key.clone(),
            },
            SETTLE,
        )
        .await
    }

    async fn deployment(
        &self,
        change: DeploymentChange,
        origin: Option<&Origin>,
    ) -> Result<usize, StoreError> {
        let service = ServiceRef::new(change.cluster.clone(), change.service.clone());
        // A rollback is told by its own deployment's events: it starts as a deployment in
        // progress whose reason says so (remembered here), and is done when that
        // deployment completes. Deployment ids are per account, so the account is in
        // every key they make.
        let rollback = Key::rollback(
            &scoped(origin, &change.cluster),
            &change.service,
            &change.deployment,
        );
        // The deployment a rollback went back to: said by its start, remembered since.
        let mut target = change.rollback_to.clone().filter(|t| !t.is_empty());
        let (what, logged) = match change.outcome {
            DeploymentOutcome::Failed => (Some(Deployed::Failed), Some(What::DeploymentFailed)),
            DeploymentOutcome::RolledBack => {
                (Some(Deployed::RolledBack), Some(What::DeploymentRolledBack))
            }
            DeploymentOutcome::RollingBack => {
                let target = change.rollback_to.clone().unwrap_or_default();
                self.store
                    .put(&rollback, &target, self.now() + MEMORY)
                    .await?;
                (Some(Deployed::RollingBack), None)
            }
            DeploymentOutcome::Completed => match self.store.get(&rollback).await? {
                Some(started) => {
                    target = target.or(Some(started).filter(|t| !t.is_empty()));
                    (Some(Deployed::RolledBack), Some(What::DeploymentRolledBack))
                }
                None => (None, Some(What::DeploymentCompleted)),
            },
            DeploymentOutcome::InProgress => (None, None),
        };
        if let Some(logged) = logged {
            self.log(Happening {
                acted: None,
                at: epoch(change.at),
                what: logged,
                subject: change.service.clone(),
                service: Some(service.clone()),
                by: None,
                account: origin.map(|o| o.account.clone()),
            })
            .await?;
        }
        let Some(what) = what else {
            skipped("deployment", "state", &change.service);
            return Ok(0);
        };
        // The revision serving is looked up where questions are answered: with accounts
        // configured that could be another account's service of the same name, so not.
        let serving = if what == Deployed::RolledBack && origin.is_none() {
            self.serving(&service).await
        } else {
            None
        };
        let policy = self.assistant.identity.policy();
        let mut made = 0;
        let mut why = Why::default();
        let account = origin.map(|o| o.account.as_str());
        for route in &self.routes.0 {
            if !route.wants_deployment(&change.cluster, &change.service)
                || !route.wants_account(account)
            {
                continue;
            }
            if !policy.group_grants(&route.group).sees_in(
                Intent::DeploymentStatus,
                account,
                Some(&service),
            ) {
                why.denied = true;
                continue;
            }
            if self
                .muted(
                    &route.channel,
                    &card::mute_subject(origin, &change.service, Some(&service)),
                )
                .await
            {
                count("notify", "deployment", "muted");
                why.muted = true;
                continue;
            }
            why.wanted = true;
            // The outcome in the id: `false` and `true` as before rollbacks had their own
            // start, so a job queued by an older version is still posted once.
            let outcome = match what {
                Deployed::Failed => "false",
                Deployed::RolledBack => "true",
                Deployed::RollingBack => "rolling-back",
            };
            let id = format!(
                "deployment:{}:{}:{outcome}",
                route.channel,
                scoped(origin, &change.deployment)
            );
            // Once per deployment and outcome per channel for a day, whichever event says
            // it (the job itself is gone once posted).
            let once = Key::once(&id);
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
                    rolled_back: what == Deployed::RolledBack,
                    deployment: change.deployment.clone(),
                    reason: change.reason.clone(),
                    what: Some(what),
                    target: target.clone(),
                    serving: serving.clone(),
                    origin: origin.cloned(),
                },
                Duration::ZERO,
            )
            .await?;
            self.store.put(&once, "1", self.now() + MEMORY).await?;
            made += 1;
        }
        if made == 0 {
            skipped("deployment", why.reason(), &change.service);
        }
        Ok(made)
    }

    /// The revision a service serves after a rollback: its newest deployment that did not
    /// fail, in one lookup (2 s budget); `None` when that says nothing.
    async fn serving(&self, service: &ServiceRef) -> Option<String> {
        let ops = self.assistant.dialog.ops();
        let records =
            tokio::time::timeout(Duration::from_secs(2), ops.service_deployments(service))
                .await
                .ok()?
                .ok()?;
        records
            .into_iter()
            .filter(|r| {
                matches!(
                    r.outcome,
                    crate::ops::DeploymentOutcome::Succeeded
                        | crate::ops::DeploymentOutcome::InProgress
                )
            })
            .max_by_key(|r| r.started_at)
            .map(|r| r.task_definition)
    }
}

/// What the routes said of an event that made no card, for its skip reason.
#[derive(Debug, Default)]
struct Why {
    /// A route wanted it, but its group's policy may not see it.
    denied: bool,
    /// A route wanted it, but it is muted there.
    muted: bool,
    /// A route took it, and there was nothing to post (an OK with no open episode).
    wanted: bool,
}

impl Why {
    fn reason(&self) -> &'static str {
        if self.denied {
            "policy"
        } else if self.muted {
            "muted"
        } else if self.wanted {
            "state"
        } else {
            "no_route"
        }
    }
}
