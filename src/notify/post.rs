//! What a job posts: an episode's card (alone, or as part of a burst summary), its edit
//! when the alarm resolves or fires again, a reply in its thread, and a deployment's card.
//! An alarm card carries the service's health and recent changes, as the route's group may
//! see them.

use std::time::Duration;

use serde_json::{Value, json};

use super::queue::{Failed, Job, Work, millis};
use super::{
    BURST, BURST_WINDOW, CARD_LOCK, Episode, LATE, LEASE, MAX_AGE, MEMORY, Notifier, SETTLE, card,
    count, resolved_minutes,
};
use crate::channel::slack::blocks::Message;
use crate::dialog::{Intent, Mode, Slot, Turn};
use crate::ops::ServiceRef;
use crate::speech::render::{n, s};
use crate::store::record;
use crate::store::{Key, Prefix};

impl Notifier {
    pub(super) async fn run(&self, job: &Job) -> Result<(), Failed> {
        let late = {
            let age = millis(self.now()) - job.created;
            (age > LATE.as_millis() as i64).then_some((age / 1000) as u64)
        };
        match &job.work {
            Work::Card { episode } => self.card(job, episode, late).await,
            Work::Update { episode } => self.update(job, episode).await,
            Work::Chart { episode } => {
                self.chart(job, episode).await;
                Ok(())
            }
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
                    let say = self.say();
                    let minutes = card::minutes(&say, late.div_ceil(60).max(1));
                    text = say.msg("thread-late", [("text", s(text)), ("minutes", s(minutes))]);
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
                what,
                target,
                serving,
                origin,
            } => {
                let message = card::DeploymentCard {
                    cluster,
                    service,
                    what: what.unwrap_or(if *rolled_back {
                        card::Deployed::RolledBack
                    } else {
                        card::Deployed::Failed
                    }),
                    deployment,
                    reason,
                    target: target.as_deref(),
                    serving: serving.as_deref(),
                    origin: origin.as_ref(),
                }
                .message(&self.say());
                self.post(&job.channel, None, &message).await.map(|_| ())
            }
        }
    }

    /// An episode's alarm as a burst lists it: its name, and where when accounts are
    /// configured.
    fn label(&self, episode: &Episode) -> String {
        match &episode.origin {
            None => episode.alarm.clone(),
            Some(origin) => {
                let say = self.say();
                say.msg(
                    "card-burst-item",
                    [
                        ("alarm", s(episode.alarm.clone())),
                        ("where", s(card::where_(&say, origin))),
                    ],
                )
            }
        }
    }

    async fn load(&self, key: &Key) -> Result<Option<(Episode, String)>, Failed> {
        let raw = self.store.get(key).await?;
        Ok(raw.and_then(|raw| record::read(&raw).map(|e| (e, raw))))
    }

    async fn save(&self, key: &Key, raw: &str, episode: &Episode) -> Result<bool, Failed> {
        let value = record::encode(episode);
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
    async fn card(&self, job: &Job, key: &Key, late: Option<u64>) -> Result<(), Failed> {
        // One worker at a time decides a channel's new cards (alone, or as a burst), so
        // two workers never both post a summary, or a card the other folded.
        let lock = Key::card_lock(&job.channel);
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

    async fn card_locked(&self, job: &Job, key: &Key, late: Option<u64>) -> Result<(), Failed> {
        let Some((episode, raw)) = self.load(key).await? else {
            return Ok(());
        };
        if episode.ts.is_some() {
            return Ok(());
        }
        let burst_key = Key::burst(&job.channel);
        if let Some(summary) = self.store.get(&burst_key).await? {
            // A burst is under way: this alarm joins the summary's thread.
            let text = self.say().msg(
                "thread-also-firing",
                [
                    ("alarm", s(self.label(&episode))),
                    ("reason", s(episode.reason.clone())),
                ],
            );
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
        for (jk, jv) in self.store.list(Prefix::JOBS).await? {
            let Some(other) = record::read::<Job>(&jv) else {
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
            let mut names = vec![self.label(&episode)];
            let mut members = vec![key.clone()];
            let mut held = Vec::new();
            for (jk, jv, other, other_key) in waiting {
                let mut leased = other.clone();
                leased.lease = millis(self.now()) + LEASE.as_millis() as i64;
                let leased_raw = record::encode(&leased);
                let keep = self.now() + MAX_AGE + LEASE;
                if !self.store.replace(&jk, &jv, &leased_raw, keep).await? {
                    continue;
                }
                if let Some((other_episode, _)) = self.load(&other_key).await? {
                    names.push(self.label(&other_episode));
                    members.push(other_key);
                }
                held.push((jk, jv, leased_raw));
            }
            let ts = match self
                .post(&job.channel, None, &card::burst(&self.say(), &names))
                .await
            {
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
        let acked = self.ack_raw(&job.channel, &episode).await?;
        let message = self
            .alarm_card(
                &job.group,
                &episode,
                late,
                super::ack::acked_by(acked.as_deref()),
            )
            .await
            .message(&self.say());
        let ts = self.post(&job.channel, None, &message).await?;
        let _ = raw;
        self.posted_ts(key, &ts, false).await;
        // The chart follows in the card's thread, as a job of its own: the card is posted
        // and recorded whatever becomes of it.
        if episode.firing
            && let Err(error) = self
                .enqueue(
                    &job.channel,
                    &job.group,
                    Work::Chart {
                        episode: key.clone(),
                    },
                    Duration::ZERO,
                )
                .await
        {
            tracing::warn!(%error, "a card's chart could not be queued; the card goes without it");
        }
        Ok(())
    }

    /// Shares the chart of an episode's alarm in its card's thread: its metric, threshold
    /// and time in ALARM over the last 3 hours, with the service's last deployment when the
    /// route's group may see what changed on it. Whatever happens, the card stands.
    async fn chart(&self, job: &Job, key: &Key) {
        let episode = match self.load(key).await {
            Ok(Some((episode, _))) => episode,
            Ok(None) | Err(_) => return,
        };
        let Some(thread) = episode.ts.clone().filter(|_| !episode.summarised) else {
            return;
        };
        let grants = self.assistant.identity.policy().group_grants(&job.group);
        let deployments = episode
            .service
            .clone()
            .filter(|service| grants.service(Intent::WhatChanged, service));
        let subject = crate::channel::slack::chart::Subject::Alarm {
            name: episode.alarm.clone(),
            deployments,
            window: crate::channel::slack::chart::DEFAULT_WINDOW,
        };
        let _ = crate::channel::slack::chart::share(
            &self.api,
            self.assistant.dialog.ops().as_ref(),
            &self.say(),
            &subject,
            &job.channel,
            &thread,
            self.now(),
        )
        .await;
    }

    /// Records a posted card's `ts` on its episode. Slack has taken the post, so a store
    /// failure here is retried a little and then logged, never answered by posting again.
    async fn posted_ts(&self, key: &Key, ts: &str, summarised: bool) {
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
    async fn set_ts(&self, key: &Key, ts: &str, summarised: bool) -> Result<(), Failed> {
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

    async fn update(&self, job: &Job, key: &Key) -> Result<(), Failed> {
        self.edit(&job.channel, &job.group, key).await
    }

    /// Edits the card of the episode at `key` in `channel` to say what the store says now:
    /// the episode and its acknowledgement. Two edits can race (the alarm resolving while
    /// someone acknowledges it), and Slack keeps whichever lands last; so after its edit
    /// each reads both again and, if either moved on meanwhile, edits once more. The last
    /// writer's edit therefore always follows the last change, and the card ends up saying
    /// the latest (resolved, and acknowledged by whoever took it).
    pub(super) async fn edit(&self, channel: &str, group: &str, key: &Key) -> Result<(), Failed> {
        let mut edited: Option<(String, Option<String>)> = None;
        for _ in 0..4 {
            let Some((episode, raw)) = self.load(key).await? else {
                return Ok(());
            };
            let Some(ts) = episode.ts.clone() else {
                return Err(Failed::Later(Duration::from_secs(1)));
            };
            if episode.summarised {
                // A summary card stays as it is; the thread says what changed.
                return Ok(());
            }
            let ack = self.ack_raw(channel, &episode).await?;
            let seen = (raw, ack);
            if edited.as_ref() == Some(&seen) {
                return Ok(());
            }
            let acked_by = super::ack::acked_by(seen.1.as_deref());
            let message = self
                .alarm_card(group, &episode, None, acked_by)
                .await
                .message(&self.say());
            let mut body = message.fields();
            body.insert("channel".to_owned(), json!(channel));
            body.insert("ts".to_owned(), json!(ts));
            self.api.call("chat.update", &Value::Object(body)).await?;
            edited = Some(seen);
        }
        Ok(())
    }

    /// The card for `episode`, with the service's health and recent changes as `group`
    /// may see them, and who acknowledged it (a Slack user).
    async fn alarm_card(
        &self,
        group: &str,
        episode: &Episode,
        late: Option<u64>,
        acked_by: Option<String>,
    ) -> card::AlarmCard {
        let resolved_after = (!episode.firing).then(|| resolved_minutes(episode));
        let grants = self.assistant.identity.policy().group_grants(group);
        // The health and change lines are asked of the data source by service name: with
        // accounts configured that name may be another account's service, so a card from
        // an account goes without them rather than say another's.
        let (health, changed) = match (&episode.service, episode.firing && episode.origin.is_none())
        {
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
        let say = self.say();
        // A metric-math alarm watches its expression, not the metrics it is made of.
        let metric = episode.expression.clone().unwrap_or_else(|| {
            say.msg(
                "card-metric",
                [(
                    "name",
                    s(episode
                        .metric
                        .as_deref()
                        .and_then(|m| m.rsplit('/').next())
                        .unwrap_or("none")),
                )],
            )
        });
        card::AlarmCard {
            alarm: episode.alarm.clone(),
            resolved_after,
            what: card::in_words(&say, subject, &metric, &episode.reason)
                .unwrap_or_else(|| episode.reason.clone()),
            health,
            changed,
            service: episode
                .service
                .as_ref()
                .map(|s| (s.cluster.clone(), s.name.clone())),
            fires: episode.fires,
            late_by: late,
            suppressed: episode.suppressed.clone(),
            opened_at: episode.opened_at,
            acked_by,
            silenced: self.silenced(episode).await,
            origin: episode.origin.clone(),
        }
    }

    /// The running silence on the episode's alarm, in its account and region (the home
    /// account without accounts), from the desk's record, if any: a record whose end has
    /// passed is over, though the tick may not have taken it yet.
    async fn silenced(&self, episode: &Episode) -> Option<card::Silenced> {
        let place = episode
            .origin
            .as_ref()
            .map_or_else(|| "-".to_owned(), super::origin::Origin::place);
        let raw = match self.store.get(&Key::silence(&place, &episode.alarm)).await {
            Ok(raw) => raw?,
            Err(error) => {
                tracing::warn!(%error, "an alarm's silence could not be read; the card goes without it");
                return None;
            }
        };
        let silence: crate::act::desk::Silence = record::decode(&raw).ok()?;
        (silence.until > crate::store::epoch(self.now())).then_some(card::Silenced {
            by: silence.by.username,
            until: silence.until,
        })
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
        let say = self.say();
        Some(match recent.first() {
            None => say.msg("card-no-changes", []),
            Some(d) => {
                let ago = crate::clock::age(self.now(), d.started_at).as_secs() / 60;
                let outcome = match d.outcome {
                    crate::ops::DeploymentOutcome::InProgress => "in-progress",
                    crate::ops::DeploymentOutcome::Succeeded => "completed",
                    crate::ops::DeploymentOutcome::Failed => "failed",
                    crate::ops::DeploymentOutcome::RolledBack => "rolled-back",
                };
                say.msg(
                    "card-last-change",
                    [
                        ("taskdef", s(d.task_definition.clone())),
                        ("age", s(card::minutes(&say, ago))),
                        ("outcome", s(outcome)),
                        ("count", n(recent.len() as f64)),
                    ],
                )
            }
        })
    }
}
