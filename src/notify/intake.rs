//! Taking events in: each recorded once (its id claimed in the store), logged in the event
//! log, and turned into delivery jobs for every route whose group may see it. An alarm
//! episode is one record per channel and alarm, created with a conditional write; repeats
//! and flapping fold into its thread, and OK edits its card.

use std::time::{Duration, SystemTime};

use super::event::{AlarmChange, DeploymentChange, DeploymentOutcome, Event, State};
use super::queue::Work;
use super::{
    Episode, FLAP_WINDOW, MEMORY, Notifier, Outcome, RECORDING, SETTLE, card, count, mute_key,
    resolved_minutes,
};
use crate::dialog::Intent;
use crate::eventlog::{self, Happening, What};
use crate::ops::ServiceRef;
use crate::speech::render::{n, s};
use crate::store::{StoreError, epoch};

impl Notifier {
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
            self.store.get(&mute_key(channel, subject)).await,
            Ok(Some(_))
        )
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
                    let value = serde_json::to_string(&episode).unwrap_or_default();
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
}
