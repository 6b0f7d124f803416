//! `POST /slack/events`: Slack's URL check, and `app_mention` and `message.im` events,
//! each claimed in the store before it is answered so it is answered once.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::answer::without_mentions;
use super::{CLAIM_LEASE, EVENT_MEMORY, Outgoing, Place, Slack, SlackState, bad_request, verified};
use crate::auth::link::SlackUser;
use crate::store::{Key, StoreError};

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    team_id: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<Event>,
    #[serde(default)]
    api_app_id: Option<String>,
    #[serde(default)]
    authorizations: Vec<Authorization>,
}

/// An installation the event is visible to (the Events API `authorizations` field): a
/// workspace's bot install (`is_bot`), or a user's own install, whose `user_id` is that
/// user, not us.
#[derive(Debug, Deserialize)]
struct Authorization {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    is_bot: bool,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    channel_type: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    team: Option<String>,
}

/// `POST /slack/events`.
pub async fn events(
    State(state): State<SlackState>,
    headers: HeaderMap,
    body: Result<crate::http::Body, crate::http::HttpError>,
) -> Response {
    tracing::Span::current().record("channel", "slack");
    let (slack, body) = match verified(&state, "events", &headers, body) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return bad_request("the body is not a Slack Events API payload");
    };
    match envelope.kind.as_str() {
        "url_verification" => {
            let challenge = envelope.challenge.unwrap_or_default();
            axum::Json(json!({ "challenge": challenge })).into_response()
        }
        "event_callback" => on_event(slack, envelope, &headers).await,
        other => {
            tracing::info!(kind = %other, "Slack event envelope ignored");
            StatusCode::OK.into_response()
        }
    }
}

async fn on_event(slack: Arc<Slack>, envelope: Envelope, headers: &HeaderMap) -> Response {
    let Some(event) = envelope.event else {
        return bad_request("an event_callback without an event");
    };
    // Our own posts, as Slack marks them: by our app (`app_id`), or by the bot user of a
    // bot installation. A user's own installation names that user: their messages are
    // questions (Slack's own `message.im` example is one).
    let ours = (event.app_id.is_some() && event.app_id == envelope.api_app_id)
        || envelope
            .authorizations
            .iter()
            .filter(|a| a.is_bot)
            .filter_map(|a| a.user_id.as_deref())
            .any(|id| event.user.as_deref() == Some(id));
    let wanted = match event.kind.as_str() {
        "app_mention" => true,
        "message" => event.channel_type.as_deref() == Some("im"),
        _ => false,
    };
    // Bot messages (ours included), edits, joins and other subtypes are not questions.
    if !wanted || ours || event.bot_id.is_some() || event.subtype.is_some() {
        return StatusCode::OK.into_response();
    }
    let (Some(user), Some(channel), Some(ts)) = (event.user, event.channel, event.ts) else {
        return StatusCode::OK.into_response();
    };
    let Some(team) = event.team.or(envelope.team_id) else {
        return bad_request("the event names no team");
    };
    let event_id = envelope
        .event_id
        .unwrap_or_else(|| format!("{team}:{channel}:{ts}"));
    match slack.claim(&event_id).await {
        Ok(true) => {}
        Ok(false) => {
            let retry = headers
                .get("x-slack-retry-num")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // Answered: acknowledge, so Slack stops. Still being answered: not yet, so
            // Slack keeps its later retries in case this answer never arrives.
            let answered = matches!(
                slack.store.get(&Key::slack_event(&event_id)).await,
                Ok(Some(state)) if state == "answered"
            );
            metrics::counter!("opsvoice_slack_requests_total", "route" => "events", "outcome" => "duplicate").increment(1);
            tracing::info!(retry = %retry, answered, "Slack event already taken");
            return if answered {
                StatusCode::OK.into_response()
            } else {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "being answered; retry later",
                )
                    .into_response()
            };
        }
        Err(error) => {
            // Not acknowledged, so Slack delivers it again when the store is back: never
            // lost, never answered twice.
            tracing::warn!(%error, "cannot record the Slack event; asking Slack to retry");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; retry",
            )
                .into_response();
        }
    }
    let who = SlackUser { team, user };
    let place = Place {
        channel,
        thread_ts: Some(event.thread_ts.unwrap_or(ts)),
    };
    let text = without_mentions(event.text.as_deref().unwrap_or_default());
    if slack.inline {
        // Lambda: answer before acknowledging. A post Slack would not take releases the
        // claim and is not acknowledged, so Slack delivers the event again.
        let (out, chart) = slack.reply_charted(&who, &text, &place).await;
        let delivered = slack.deliver(&who, &place, &out).await;
        slack.settle(&event_id, delivered).await;
        // The chart follows the posted answer (never instead of it), within its deadline.
        if let (true, Outgoing::Public(_), Some(subject)) = (delivered, &out, &chart) {
            slack.follow_with_chart(&place, subject).await;
        }
        return if delivered {
            StatusCode::OK.into_response()
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the answer could not be posted; retry",
            )
                .into_response()
        };
    }
    // `serve`: acknowledged now, so Slack will not deliver it again: the answer is posted
    // with retries for a few minutes (the claim held meanwhile) before it is given up.
    let worker = slack.clone();
    tokio::spawn(async move {
        let (out, chart) = worker.reply_charted(&who, &text, &place).await;
        let mut delivered = worker.deliver(&who, &place, &out).await;
        for wait in POST_RETRIES {
            if delivered {
                break;
            }
            worker.hold(&event_id, wait).await;
            tokio::time::sleep(wait).await;
            delivered = worker.deliver(&who, &place, &out).await;
        }
        worker.settle(&event_id, delivered).await;
        if let (true, Outgoing::Public(_), Some(subject)) = (delivered, &out, &chart) {
            worker.follow_with_chart(&place, subject).await;
        }
    });
    StatusCode::OK.into_response()
}

/// How long `serve` waits before posting an answer Slack would not take, again.
const POST_RETRIES: [Duration; 3] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

impl Slack {
    /// Claims `event_id` for [`CLAIM_LEASE`]: `true` for the first delivery (or one whose
    /// claim lapsed), `false` for a retry of an event answered or being answered.
    async fn claim(&self, event_id: &str) -> Result<bool, StoreError> {
        self.store
            .create(
                &Key::slack_event(event_id),
                "answering",
                self.clock.now() + CLAIM_LEASE,
            )
            .await
    }

    /// Holds the claim on `event_id` for `wait` more (an answer still being posted).
    async fn hold(&self, event_id: &str, wait: Duration) {
        let _ = self
            .store
            .put(
                &Key::slack_event(event_id),
                "answering",
                self.clock.now() + wait + CLAIM_LEASE,
            )
            .await;
    }

    /// Settles a claim: an answer Slack took is remembered for [`EVENT_MEMORY`]; one it
    /// did not take is released, so Slack's next retry tries again.
    async fn settle(&self, event_id: &str, delivered: bool) {
        let key = Key::slack_event(event_id);
        let result = if delivered {
            self.store
                .put(&key, "answered", self.clock.now() + EVENT_MEMORY)
                .await
        } else {
            self.store.delete(&key).await
        };
        if let Err(error) = result {
            tracing::warn!(%error, delivered, "a Slack event's claim could not be settled");
        }
    }
}
