//! Acting in Slack: the approval cards (posted, then updated in place at every step), the
//! outcome told in the requester's thread, and the buttons: the requester's Confirm and
//! Cancel on a read-back, a second person's Approve and Deny on a card.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Outgoing, Place, Slack, blocks};
use crate::act::desk::{Announcer, Answered, Asker};
use crate::act::record::{ActionRecord, Place as Posted};
use crate::auth::link::SlackUser;
use crate::speech::Renderer;
use crate::vocab::Mode;

/// Posts and updates approval cards and tells requesters' threads, with the bot token.
#[derive(Debug)]
pub struct SlackAnnouncer {
    api: super::api::WebApi,
    renderer: Renderer,
}

impl SlackAnnouncer {
    #[must_use]
    pub fn new(api: super::api::WebApi, renderer: Renderer) -> Self {
        Self { api, renderer }
    }

    fn card(&self, record: &ActionRecord) -> blocks::Message {
        let say = self.renderer.say("en-US", Mode::Text);
        let what = crate::dialog::acting::describe_record(&say, record);
        let status = crate::dialog::acting::status(&say, record);
        let open = matches!(record.state(), crate::act::record::State::AwaitingApproval);
        blocks::approval_card(record.id(), &what, &status, open)
    }
}

#[async_trait::async_trait]
impl Announcer for SlackAnnouncer {
    async fn ask_approval(&self, channel: &str, record: &ActionRecord) -> Result<Posted, String> {
        let mut body = self.card(record).fields();
        body.insert("channel".to_owned(), json!(channel));
        let posted = self
            .api
            .call("chat.postMessage", &Value::Object(body))
            .await
            .map_err(|e| e.to_string())?;
        let ts = posted
            .get("ts")
            .and_then(Value::as_str)
            .ok_or("Slack posted the card but gave no ts")?;
        let channel = posted
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or(channel);
        Ok(Posted {
            channel: channel.to_owned(),
            ts: ts.to_owned(),
        })
    }

    async fn update_card(&self, card: &Posted, record: &ActionRecord) {
        let mut body = self.card(record).fields();
        body.insert("channel".to_owned(), json!(card.channel));
        body.insert("ts".to_owned(), json!(card.ts));
        if let Err(error) = self.api.call("chat.update", &Value::Object(body)).await {
            tracing::warn!(%error, "an approval card could not be updated");
        }
    }

    async fn tell(&self, origin: &Posted, record: &ActionRecord) {
        let say = self.renderer.say("en-US", Mode::Text);
        let what = crate::dialog::acting::describe_record(&say, record);
        let status = crate::dialog::acting::status(&say, record);
        let mut body = blocks::notice(&format!("{what} {status}")).fields();
        body.insert("channel".to_owned(), json!(origin.channel));
        body.insert("thread_ts".to_owned(), json!(origin.ts));
        if let Err(error) = self
            .api
            .call("chat.postMessage", &Value::Object(body))
            .await
        {
            tracing::warn!(%error, "an action's outcome could not be told in its thread");
        }
    }
}

/// The Slack session an action asked for in Slack is bound to: the workspace and user.
#[must_use]
pub fn session(user: &SlackUser) -> String {
    format!("slack:{}:{}", user.team, user.user)
}

/// An acting button pressed: on action `id`, on the message at `message_ts`; an Approve
/// or Deny (`judge`), or a Confirm or Cancel; yes (Confirm, Approve) or no.
#[derive(Debug, Clone, Copy)]
pub(super) struct Button<'a> {
    pub id: &'a str,
    pub message_ts: Option<&'a str>,
    pub judge: bool,
    pub yes: bool,
}

impl Slack {
    /// A Confirm or Cancel on a read-back, or an Approve or Deny on a card, pressed by
    /// `user`. What changed anything is said in the thread, for everyone there; a press
    /// that did nothing (someone else's, a second one, a late one) is told only to the
    /// person who pressed it.
    pub(super) async fn act_button(
        self: &Arc<Self>,
        user: &SlackUser,
        place: &Place,
        button: Button<'_>,
    ) -> Outgoing {
        let Button { id, judge, yes, .. } = button;
        let Some(desk) = self.assistant.dialog().desk().cloned() else {
            return Outgoing::Private(blocks::notice(
                "Actions aren't set up here, so nothing was done.",
            ));
        };
        if judge && let Some(links) = &self.links {
            // An approver must be a linked person: offer the link, in words about approving.
            if let Ok(None) = links.principal(user).await {
                return self
                    .offer(
                        user,
                        place,
                        "Only a linked account can approve actions, so nothing was done. \
                         Link yours, then press the button again.",
                    )
                    .await;
            }
        }
        let (caller, _token) = match self.caller(user, place).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        let say = self.assistant.renderer.say("en-US", Mode::Text);
        if judge {
            // The approver must be a linked person (the demo's anonymous caller is nobody).
            let Some(principal) = caller.principal.as_ref() else {
                return Outgoing::Private(blocks::notice(
                    "Only a linked account can approve actions. Nothing was done.",
                ));
            };
            let answered = desk.judge(id, principal, &caller.grants, yes).await;
            let words = match answered {
                Answered::SelfApproval => {
                    "You can't approve your own request: someone else has to. Nothing was done."
                }
                Answered::NotAllowed => "You aren't allowed to approve this. Nothing was done.",
                Answered::Expired => {
                    "That approval expired before it was answered. Nothing was done."
                }
                Answered::NothingToConfirm | Answered::InProgress => {
                    "That request isn't waiting for approval any more."
                }
                Answered::Unavailable => {
                    "I can't reach my action records right now. Nothing was done."
                }
                Answered::Rejected => "Denied. Nothing was changed.",
                Answered::Refused(r) => {
                    return Outgoing::Private(blocks::notice(&say.msg(
                        r.message_id(),
                        [
                            ("verb", crate::speech::render::s("do")),
                            ("target", crate::speech::render::s("that")),
                        ],
                    )));
                }
                _ => "Approved. The card shows how it goes.",
            };
            return Outgoing::Private(blocks::notice(words));
        }
        let principal = caller
            .principal
            .clone()
            .unwrap_or_else(crate::auth::Principal::anonymous);
        let session = session(user);
        let asker = Asker {
            principal: &principal,
            grants: &caller.grants,
            session: &session,
            origin: None,
        };
        let record = desk.ledger().get(id).await.ok().flatten();
        let answered = desk.answer(id, &asker, yes).await;
        // Only the requester's own answer moves the read-back; anything else did nothing.
        let moved = !matches!(
            answered,
            Answered::NothingToConfirm | Answered::InProgress | Answered::Unavailable
        );
        let settled = !matches!(answered, Answered::Expired) && moved;
        let reply = crate::dialog::acting::reply_for(record.as_ref(), answered);
        let mut turn = crate::dialog::Turn::new(reply.0, Mode::Text);
        turn.principal = caller.principal.clone();
        let answer = crate::dialog::Answer::to(&turn, reply.1, crate::dialog::Move::Close);
        let rendered = self
            .assistant
            .renderer
            .render(&answer, "en-US", crate::speech::Forms::Text);
        if moved && let Some(ts) = button.message_ts {
            self.close_read_back(&desk, id, &place.channel, ts).await;
        }
        let message = blocks::notice(&rendered.text);
        if settled {
            Outgoing::Public(message)
        } else {
            Outgoing::Private(message)
        }
    }

    /// Edits the read-back at `ts` in `channel` to say where action `id` stands, without
    /// its buttons.
    async fn close_read_back(
        &self,
        desk: &crate::act::desk::Desk,
        id: &str,
        channel: &str,
        ts: &str,
    ) {
        let Ok(Some(record)) = desk.ledger().get(id).await else {
            return;
        };
        let say = self.assistant.renderer.say("en-US", Mode::Text);
        let what = crate::dialog::acting::describe_record(&say, &record);
        let status = crate::dialog::acting::status(&say, &record);
        let mut body = blocks::answered_read_back(&what, &status).fields();
        body.insert("channel".to_owned(), json!(channel));
        body.insert("ts".to_owned(), json!(ts));
        if let Err(error) = self.api.call("chat.update", &Value::Object(body)).await {
            tracing::warn!(%error, "an answered read-back could not be closed");
        }
    }
}
