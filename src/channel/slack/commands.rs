//! `POST /slack/commands`: the `/ops` slash command, answered in its response when that is
//! quick, else at its `response_url`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{COMMAND_WINDOW, Outgoing, Place, SlackState, bad_request, blocks, form, verified};
use crate::auth::link::SlackUser;

/// A slash command's or interaction's HTTP answer.
pub(super) fn command_response(out: &Outgoing) -> Response {
    let mut body = out.message().fields();
    body.insert("response_type".to_owned(), json!("ephemeral"));
    axum::Json(Value::Object(body)).into_response()
}

/// `POST /slack/commands`: `/ops <question>`, `/ops link`, `/ops unlink`, `/ops help`.
/// Answered in the response when that takes under 2.5 s; else acknowledged, and the
/// answer follows at the `response_url`. Slash-command answers are for the asker only.
pub async fn commands(
    State(state): State<SlackState>,
    headers: HeaderMap,
    body: Result<crate::http::Body, crate::http::HttpError>,
) -> Response {
    tracing::Span::current().record("channel", "slack");
    let (slack, body) = match verified(&state, "commands", &headers, body) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let fields = form(&body);
    let (Some(team), Some(user), Some(channel)) = (
        fields.get("team_id"),
        fields.get("user_id"),
        fields.get("channel_id"),
    ) else {
        return bad_request("a slash command needs team_id, user_id and channel_id");
    };
    let who = SlackUser {
        team: team.clone(),
        user: user.clone(),
    };
    let place = Place {
        channel: channel.clone(),
        thread_ts: None,
    };
    let text = fields.get("text").cloned().unwrap_or_default();
    let response_url = fields.get("response_url").cloned();
    let worker = slack.clone();
    let mut answer = tokio::spawn(async move { worker.reply(&who, &text, &place).await });
    match tokio::time::timeout(COMMAND_WINDOW, &mut answer).await {
        Ok(Ok(out)) => command_response(&out),
        Ok(Err(_)) => command_response(&Outgoing::Private(blocks::notice(
            "Something went wrong on my side; try again.",
        ))),
        Err(_) => {
            let Some(url) = response_url else {
                return command_response(&Outgoing::Private(blocks::notice(
                    "That is taking too long; try again in a minute.",
                )));
            };
            let poster = slack.clone();
            let late = async move {
                let out = match answer.await {
                    Ok(out) => out,
                    Err(_) => Outgoing::Private(blocks::notice(
                        "Something went wrong on my side; try again.",
                    )),
                };
                let mut body = out.message().fields();
                body.insert("response_type".to_owned(), json!("ephemeral"));
                if let Err(error) = poster.api.respond(&url, &Value::Object(body)).await {
                    tracing::warn!(%error, "a late slash-command answer could not be posted");
                }
            };
            slack.run(late).await;
            axum::Json(json!({ "response_type": "ephemeral", "text": "Looking into it…" }))
                .into_response()
        }
    }
}
