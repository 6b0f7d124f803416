//! `POST /slack/interactions`: our buttons pressed (a follow-up question, a mute).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ack::ACK_ACTION;
use super::{MUTE_ACTION, Outgoing, Place, SlackState, bad_request, blocks, form, verified};
use crate::auth::link::SlackUser;

/// The acting buttons (DESIGN §7): a read-back's Confirm and Cancel, a card's Approve
/// and Deny; each carries the action's id.
const ACT_ACTIONS: [&str; 4] = [
    blocks::ACT_CONFIRM,
    blocks::ACT_CANCEL,
    blocks::ACT_APPROVE,
    blocks::ACT_DENY,
];

#[derive(Debug, Deserialize)]
pub(super) struct Interaction {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) user: InteractionUser,
    #[serde(default)]
    pub(super) team: Option<Id>,
    #[serde(default)]
    pub(super) channel: Option<Id>,
    #[serde(default)]
    pub(super) container: Option<Container>,
    #[serde(default)]
    pub(super) message: Option<Posted>,
    #[serde(default)]
    pub(super) actions: Vec<Action>,
    #[serde(default)]
    pub(super) response_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct InteractionUser {
    pub(super) id: String,
    #[serde(default)]
    pub(super) team_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Id {
    pub(super) id: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Container {
    #[serde(default)]
    pub(super) is_ephemeral: bool,
    #[serde(default)]
    pub(super) channel_id: Option<String>,
    #[serde(default)]
    pub(super) message_ts: Option<String>,
    #[serde(default)]
    pub(super) thread_ts: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Posted {
    #[serde(default)]
    pub(super) ts: Option<String>,
    #[serde(default)]
    pub(super) thread_ts: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Action {
    pub(super) action_id: String,
    #[serde(default)]
    pub(super) value: Option<String>,
}

/// `POST /slack/interactions`: a follow-up button pressed (its value is the question,
/// answered in the same thread as the person who pressed it), or the link button (a URL
/// button: the browser opens it; there is nothing to do here).
pub async fn interactions(
    State(state): State<SlackState>,
    headers: HeaderMap,
    body: Result<crate::http::Body, crate::http::HttpError>,
) -> Response {
    tracing::Span::current().record("channel", "slack");
    let (slack, body) = match verified(&state, "interactions", &headers, body) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let Some(payload) = form(&body).remove("payload") else {
        return bad_request("an interaction needs a payload field");
    };
    let Ok(interaction) = serde_json::from_str::<Interaction>(&payload) else {
        return bad_request("the payload is not a Slack interaction");
    };
    if interaction.kind != "block_actions" {
        return StatusCode::OK.into_response();
    }
    if interaction
        .actions
        .iter()
        .any(|a| a.action_id == ACK_ACTION)
    {
        return super::ack::pressed(slack, interaction).await;
    }
    let Some(action) = interaction.actions.iter().find(|a| {
        a.action_id.starts_with(blocks::ASK_ACTION)
            || a.action_id == MUTE_ACTION
            || ACT_ACTIONS.contains(&a.action_id.as_str())
    }) else {
        return StatusCode::OK.into_response();
    };
    let muting = action.action_id == MUTE_ACTION;
    let Some(question) = action.value.clone().filter(|v| !v.trim().is_empty()) else {
        return StatusCode::OK.into_response();
    };
    let container = interaction.container.as_ref();
    let channel = interaction
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .or_else(|| container.and_then(|c| c.channel_id.clone()));
    let Some(team) = interaction
        .team
        .as_ref()
        .map(|t| t.id.clone())
        .or(interaction.user.team_id.clone())
    else {
        return bad_request("the interaction names no team");
    };
    let Some(channel) = channel else {
        return bad_request("the interaction names no channel");
    };
    let message = interaction.message.as_ref();
    let thread_ts = message
        .and_then(|m| m.thread_ts.clone())
        .or_else(|| container.and_then(|c| c.thread_ts.clone()))
        .or_else(|| message.and_then(|m| m.ts.clone()))
        .or_else(|| container.and_then(|c| c.message_ts.clone()));
    let who = SlackUser {
        team,
        user: interaction.user.id.clone(),
    };
    // A button on an answer only the asker could see (a slash command's) answers only them,
    // in the same conversation.
    let private = container.is_some_and(|c| c.is_ephemeral);
    let response_url = interaction.response_url.clone();
    let place = if private {
        Place {
            channel,
            thread_ts: None,
        }
    } else {
        Place { channel, thread_ts }
    };
    if ACT_ACTIONS.contains(&action.action_id.as_str()) {
        let judge = matches!(
            action.action_id.as_str(),
            blocks::ACT_APPROVE | blocks::ACT_DENY
        );
        let yes = matches!(
            action.action_id.as_str(),
            blocks::ACT_CONFIRM | blocks::ACT_APPROVE
        );
        // The pressed message itself (a read-back, to close once it is answered).
        let pressed = message
            .and_then(|m| m.ts.clone())
            .or_else(|| container.and_then(|c| c.message_ts.clone()));
        let worker = slack.clone();
        slack
            .run(async move {
                let button = super::acting::Button {
                    id: &question,
                    message_ts: pressed.as_deref(),
                    judge,
                    yes,
                };
                let out = worker.act_button(&who, &place, button).await;
                worker.deliver(&who, &place, &out).await;
            })
            .await;
        return StatusCode::OK.into_response();
    }
    let worker = slack.clone();
    slack
        .run(async move {
            let (out, chart) = if muting {
                (worker.mute(&who, &place, &question).await, None)
            } else {
                worker.reply_charted(&who, &question, &place).await
            };
            let out = match out {
                Outgoing::Public(message) if private => Outgoing::Private(message),
                other => other,
            };
            // A private answer goes back through the interaction's response_url, which
            // works where the bot is not a member (a slash command in someone's DM).
            if let (true, Some(url)) = (private, &response_url) {
                let mut body = out.message().fields();
                body.insert("response_type".to_owned(), json!("ephemeral"));
                body.insert("replace_original".to_owned(), json!(false));
                if let Err(error) = worker.api.respond(url, &Value::Object(body)).await {
                    tracing::warn!(%error, "a private button answer could not be posted");
                }
                return;
            }
            let delivered = worker.deliver(&who, &place, &out).await;
            // A follow-up's chart (a card's "CPU and memory", say) comes after its answer.
            if let (true, Outgoing::Public(_), Some(subject)) = (delivered, &out, &chart) {
                worker.follow_with_chart(&place, subject).await;
            }
        })
        .await;
    StatusCode::OK.into_response()
}
