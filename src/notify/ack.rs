//! Acknowledging an alarm: its card's Acknowledge button, pressed by a linked Slack user
//! who may see the alarm, says "I've got this". It changes nothing in AWS.
//!
//! An acknowledgement is its own record ([`Ack`], at [`Key::ack`]: the channel, the
//! episode's opening and the alarm), created with a conditional write, so of two presses
//! (a double click, two people at once, a redelivered request) exactly one records it and
//! edits the card; the other is told who was first. The card's rendered state is the
//! episode plus its acknowledgement, so every later edit by the notifier (the alarm
//! resolving, firing again) keeps the "Acknowledged by" line ([`Notifier::edit`]).
//! Each acknowledgement is audited (`alarm_acknowledged`) and logged for "what did I miss?".
//! The Slack app passes presses on through its [`Acknowledge`] trait (it sits a layer
//! below the notifier, so it names the trait, not this).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::queue::{Failed, Work};
use super::{Episode, MEMORY, Notifier, card};
use crate::channel::slack::ack::{Acked, Acker, Acknowledge};
use crate::dialog::Intent;
use crate::eventlog::{self, Happening, What};
use crate::store::record::{self, Record};
use crate::store::{Key, StoreError, epoch};

/// How long an acknowledgement is kept: longer than any card it is shown on is edited (an
/// episode is kept a day after its last change; a new episode has a key of its own).
pub const ACK_MEMORY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Who took an alarm, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The Slack team and user who pressed the button.
    pub team: String,
    pub user: String,
    /// The Cognito principal their link stands for.
    pub sub: String,
    pub username: String,
    pub alarm: String,
    /// Seconds since the epoch.
    pub at: i64,
}

impl Record for Ack {
    const KIND: &'static str = "alarm acknowledgement";
}

impl Notifier {
    /// Records that `by` took the alarm whose card (at `message_ts` in `channel`) carries
    /// the Acknowledge button with `value`, once, and edits the card.
    ///
    /// # Errors
    /// A store that fails before the acknowledgement is recorded (nothing was done).
    pub async fn acknowledge(
        &self,
        channel: &str,
        message_ts: &str,
        value: &str,
        by: Acker<'_>,
    ) -> Result<Acked, StoreError> {
        let Some((opened_at, alarm)) = card::read_ack_value(value) else {
            return Ok(Acked::Over);
        };
        let key = Key::episode(channel, alarm);
        let Some(raw) = self.store.get(&key).await? else {
            return Ok(Acked::Over);
        };
        let Some(episode) = record::read::<Episode>(&raw) else {
            return Ok(Acked::Over);
        };
        let allowed = by.grants.sees_in(
            Intent::ActiveAlarms,
            episode.origin.as_ref().map(|o| o.account.as_str()),
            episode.service.as_ref(),
        );
        if !allowed {
            return Ok(Acked::Denied);
        }
        let this_card = episode.opened_at == opened_at
            && !episode.summarised
            && episode.ts.as_deref() == Some(message_ts);
        if !this_card || !episode.firing {
            return Ok(Acked::Over);
        }
        let now = self.now();
        let ack = Ack {
            team: by.slack.team.clone(),
            user: by.slack.user.clone(),
            sub: by.principal.sub.clone(),
            username: by.principal.username.clone(),
            alarm: episode.alarm.clone(),
            at: epoch(now),
        };
        let ack_key = ack_key(channel, &episode);
        if !self
            .store
            .create(&ack_key, &record::encode(&ack), now + ACK_MEMORY)
            .await?
        {
            let first = self.store.get(&ack_key).await?;
            return Ok(Acked::Already(acked_by(first.as_deref())));
        }
        audit(channel, &episode, &ack);
        // Recorded: what follows is said as well as it can be, and never undoes it.
        if let Err(error) = eventlog::append(
            self.store.as_ref(),
            &Happening {
                at: ack.at,
                what: What::AlarmAcknowledged,
                subject: episode.alarm.clone(),
                service: episode.service.clone(),
                by: Some(ack.username.clone()),
                acted: None,
                account: episode.origin.as_ref().map(|o| o.account.clone()),
            },
            now + MEMORY,
        )
        .await
        {
            tracing::warn!(%error, "an acknowledgement was recorded but not logged for what did I miss");
        }
        self.edit_acknowledged(channel, &key).await;
        Ok(Acked::Done)
    }

    /// Edits the acknowledged card now; if Slack cannot take it now, the edit is queued and
    /// retried like any other.
    async fn edit_acknowledged(&self, channel: &str, key: &Key) {
        let group = self
            .routes
            .0
            .iter()
            .find(|r| r.channel == channel)
            .map(|r| r.group.clone())
            .unwrap_or_default();
        match self.edit(channel, &group, key).await {
            Ok(()) => {}
            Err(Failed::Later(wait)) => {
                tracing::info!(
                    wait_ms = wait.as_millis() as u64,
                    "an acknowledged card could not be edited now; queued"
                );
                let work = Work::Update {
                    episode: key.clone(),
                };
                if let Err(error) = self.enqueue(channel, &group, work, wait).await {
                    tracing::warn!(%error, "an acknowledged card's edit could not be queued");
                }
            }
            Err(Failed::Never(why)) => {
                tracing::warn!(%why, "an acknowledged card can never be edited");
            }
        }
    }

    /// The raw acknowledgement of `episode`'s card in `channel`, if any.
    pub(super) async fn ack_raw(
        &self,
        channel: &str,
        episode: &Episode,
    ) -> Result<Option<String>, StoreError> {
        self.store.get(&ack_key(channel, episode)).await
    }
}

#[async_trait::async_trait]
impl Acknowledge for Notifier {
    async fn acknowledge(
        &self,
        channel: &str,
        message_ts: &str,
        value: &str,
        by: Acker<'_>,
    ) -> Result<Acked, StoreError> {
        Notifier::acknowledge(self, channel, message_ts, value, by).await
    }
}

/// Where the acknowledgement of `episode`'s card in `channel` is kept.
fn ack_key(channel: &str, episode: &Episode) -> Key {
    Key::ack(channel, episode.opened_at, &episode.scoped())
}

/// The Slack user who acknowledged, from a stored acknowledgement.
pub(super) fn acked_by(raw: Option<&str>) -> Option<String> {
    raw.and_then(record::read::<Ack>).map(|ack| ack.user)
}

/// The `opsvoice::audit` event of an acknowledgement: the Slack user, the principal their
/// link stands for, and the alarm. Names are escaped: they came from people and AWS.
fn audit(channel: &str, episode: &Episode, ack: &Ack) {
    let esc = |t: &str| crate::telemetry::escape_controls(t).into_owned();
    let service = episode
        .service
        .as_ref()
        .map(|s| esc(&format!("{}/{}", s.cluster, s.name)));
    tracing::info!(
        target: "opsvoice::audit",
        event = "alarm_acknowledged",
        slack_team = %esc(&ack.team),
        slack_user = %esc(&ack.user),
        sub = %esc(&ack.sub),
        username = %esc(&ack.username),
        alarm = %esc(&ack.alarm),
        service = service.as_deref(),
        account = episode.origin.as_ref().map(|o| o.account.as_str()),
        channel = %esc(channel),
        opened_at = episode.opened_at,
        "alarm_acknowledged"
    );
}
