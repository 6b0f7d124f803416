//! The delivery queue: jobs kept in the store until they are posted, leased before they
//! run (a conditional write) so two processes never post one twice, and put back with
//! backoff when Slack refuses for now, across restarts, until posted or an hour old.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{LEASE, MAX_AGE, Notifier, count};
use crate::channel::slack::api::SlackApiError;
use crate::store::record::{self, Record};
use crate::store::{Key, Prefix, StoreError};

/// What a job posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Work {
    /// A new episode's card (or its place in a burst).
    Card { episode: Key },
    /// The episode's card edited to its current state.
    Update { episode: Key },
    /// A reply in the episode's thread.
    Reply { episode: Key, text: String },
    /// The chart of the episode's alarm, in its card's thread (after the card; once, within
    /// the chart's deadline, never retried: a late chart is worth nothing, and the card
    /// stands without it).
    Chart { episode: Key },
    /// A deployment's card: failed, rolling back, or rolled back.
    Deployment {
        cluster: String,
        service: String,
        /// What jobs queued before `what` said; `what` wins when present.
        rolled_back: bool,
        deployment: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        what: Option<super::card::Deployed>,
        /// The deployment a rollback returns to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
        /// The revision serving after a rollback.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        serving: Option<String>,
        /// The account and region, when accounts are configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<super::origin::Origin>,
    },
}

/// A delivery job, kept in the store until it is posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub(super) id: String,
    pub(super) channel: String,
    pub(super) group: String,
    pub(super) work: Work,
    /// Milliseconds since the epoch.
    pub(super) created: i64,
    pub(super) due: i64,
    pub(super) lease: i64,
    pub(super) attempts: u32,
}

impl Record for Job {
    const KIND: &'static str = "notification job";
}

pub(super) fn millis(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Why a job could not be done now.
pub(super) enum Failed {
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

impl Notifier {
    pub(super) async fn enqueue(
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
    pub(super) async fn enqueue_as(
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
        let key = Key::job(&job.id);
        let value = record::encode(&job);
        if once {
            self.store
                .create(&key, &value, now + MAX_AGE + LEASE)
                .await
                .map(|_| ())
        } else {
            self.store.put(&key, &value, now + MAX_AGE + LEASE).await
        }
    }

    /// Posts every job that is due and not held by another worker; how many were posted.
    pub async fn deliver_due(&self) -> usize {
        let jobs = match self.store.list(Prefix::JOBS).await {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::warn!(%error, "the delivery queue cannot be read; trying again shortly");
                return 0;
            }
        };
        let now = millis(self.now());
        let mut due: Vec<(Key, String, Job)> = jobs
            .into_iter()
            .filter_map(|(k, v)| record::read::<Job>(&v).map(|j| (k, v, j)))
            .filter(|(_, _, j)| j.due <= now && j.lease <= now)
            .collect();
        // Oldest first, so a thread's replies keep their order; charts after every post,
        // so a chart never holds up a card.
        due.sort_by_key(|(_, _, j)| {
            (
                matches!(j.work, Work::Chart { .. }),
                j.created,
                j.id.clone(),
            )
        });
        let mut posted = 0;
        for (key, raw, job) in due {
            let mut held = job.clone();
            held.lease = millis(self.now()) + LEASE.as_millis() as i64;
            let held_raw = record::encode(&held);
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
                    let value = record::encode(&again);
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
            let pending = self.store.list(Prefix::JOBS).await.unwrap_or_default();
            if pending.is_empty() || started.elapsed() + Duration::from_millis(500) >= within {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
