//! An alarm card's Acknowledge button (`action_id` [`ACK_ACTION`], its value the card's
//! episode): the presser must be a linked Slack user whose groups cover the alarm; the
//! cards' owner (the notifier, a layer above, behind [`Acknowledge`]) then records it once
//! and edits the card. Whoever cannot, or comes second, is told so privately, and nothing
//! changes.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Outgoing, Place, Slack, bad_request, blocks};
use crate::auth::Principal;
use crate::auth::link::SlackUser;
use crate::auth::policy::Grants;
use crate::speech::render::{DEFAULT_LOCALE, s};
use crate::store::StoreError;

/// The action id of an alarm card's Acknowledge button.
pub const ACK_ACTION: &str = "ack";

/// Who presses Acknowledge: the Slack user, the principal their link stands for, and what
/// that principal may see.
#[derive(Debug, Clone, Copy)]
pub struct Acker<'a> {
    pub slack: &'a SlackUser,
    pub principal: &'a Principal,
    pub grants: &'a Grants,
}

/// What pressing Acknowledge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acked {
    /// Recorded now, and the card edited to say so (or queued to be, if Slack is down).
    Done,
    /// Someone was first: the Slack user who was, if their record reads.
    Already(Option<String>),
    /// The acknowledger's groups do not cover the alarm's service: nothing recorded.
    Denied,
    /// The card is no open episode's here (the alarm resolved, a newer card took over, or
    /// the button is not one we made): nothing recorded.
    Over,
}

/// Whoever owns the cards: records an acknowledgement once and edits its card.
#[async_trait::async_trait]
pub trait Acknowledge: Send + Sync + std::fmt::Debug {
    /// Records that `by` took the alarm whose card (at `message_ts` in `channel`) carries
    /// the Acknowledge button with `value`, once, and edits the card.
    ///
    /// # Errors
    /// A store that fails before the acknowledgement is recorded (nothing was done).
    async fn acknowledge(
        &self,
        channel: &str,
        message_ts: &str,
        value: &str,
        by: Acker<'_>,
    ) -> Result<Acked, StoreError>;
}

/// `POST /slack/interactions` with an Acknowledge press, already parsed (the request is
/// verified): answered at once, the acknowledgement done in the background (inline in
/// Lambda), and anything to say said privately to the presser.
pub(super) async fn pressed(
    slack: Arc<Slack>,
    press: super::interactions::Interaction,
) -> Response {
    let Some(value) = press
        .actions
        .iter()
        .find(|a| a.action_id == ACK_ACTION)
        .and_then(|a| a.value.clone())
    else {
        return StatusCode::OK.into_response();
    };
    let container = press.container.as_ref();
    let Some(team) = press
        .team
        .as_ref()
        .map(|t| t.id.clone())
        .or(press.user.team_id.clone())
    else {
        return bad_request("the interaction names no team");
    };
    let Some(channel) = press
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .or_else(|| container.and_then(|c| c.channel_id.clone()))
    else {
        return bad_request("the interaction names no channel");
    };
    let Some(message_ts) = container
        .and_then(|c| c.message_ts.clone())
        .or_else(|| press.message.as_ref().and_then(|m| m.ts.clone()))
    else {
        return bad_request("the interaction names no message");
    };
    let who = SlackUser {
        team,
        user: press.user.id,
    };
    let worker = slack.clone();
    slack
        .run(async move {
            if let Some(out) = worker
                .acknowledge(&who, &channel, &message_ts, &value)
                .await
            {
                // Beside the card, not in its thread: it answers the press.
                let place = Place {
                    channel,
                    thread_ts: None,
                };
                worker.deliver(&who, &place, &out).await;
            }
        })
        .await;
    StatusCode::OK.into_response()
}

impl Slack {
    /// `user` pressed Acknowledge (`value`) on the card at `message_ts` in `channel`: what
    /// to tell them privately, if anything (when it worked, the edited card says it).
    pub async fn acknowledge(
        &self,
        user: &SlackUser,
        channel: &str,
        message_ts: &str,
        value: &str,
    ) -> Option<Outgoing> {
        let say = self
            .assistant
            .renderer
            .say(DEFAULT_LOCALE, crate::dialog::Mode::Text);
        let private = |id: &str| Some(Outgoing::Private(blocks::notice(&say.msg(id, []))));
        let refused = |reason: &'static str| {
            tracing::info!(reason, "an acknowledgement was refused");
        };
        // Only cards the notifier posts carry the button.
        let Some(cards) = &self.cards else {
            refused("no_notifier");
            return private("ack-over");
        };
        // An acknowledgement names a person, so only a linked user makes one (even on the
        // demo fleet, where unlinked users may ask).
        let Some(links) = &self.links else {
            refused("no_linking");
            return private("ack-not-set-up");
        };
        let linked = match links.principal(user).await {
            Ok(Some(linked)) => linked,
            Ok(None) => {
                refused("unlinked");
                let place = Place {
                    channel: channel.to_owned(),
                    thread_ts: None,
                };
                return Some(
                    self.offer(user, &place, &say.msg("ack-link-first", []))
                        .await,
                );
            }
            Err(error) => {
                tracing::warn!(%error, "a Slack user's link could not be checked");
                return private("ack-failed");
            }
        };
        let caller = self.assistant.identity.caller_for(linked.principal);
        let Some(principal) = caller.principal.as_ref() else {
            return private("ack-failed");
        };
        let by = Acker {
            slack: user,
            principal,
            grants: &caller.grants,
        };
        match cards.acknowledge(channel, message_ts, value, by).await {
            Ok(Acked::Done) => None,
            Ok(Acked::Already(first)) => {
                refused("already");
                let text = match first {
                    Some(first) => say.msg("ack-already", [("who", s(blocks::mention(&first)))]),
                    None => say.msg("ack-already-someone", []),
                };
                // The mention is ours; nothing else in the words came from anyone.
                Some(Outgoing::Private(blocks::Message {
                    blocks: vec![blocks::section(&text)],
                    text,
                }))
            }
            Ok(Acked::Denied) => {
                refused("grants");
                private("ack-denied")
            }
            Ok(Acked::Over) => {
                refused("over");
                private("ack-over")
            }
            Err(error) => {
                tracing::warn!(%error, "an acknowledgement could not be recorded");
                private("ack-failed")
            }
        }
    }
}
