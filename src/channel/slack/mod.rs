//! The native Slack app (DESIGN.md §6): `POST /slack/events`, `/slack/commands` and
//! `/slack/interactions`, and the account-link pages `GET /link/start` and
//! `/link/callback`.
//!
//! Every Slack request is verified on its raw body first ([`verify`]); a request that fails
//! is a 401 and nothing else happens. A verified question is acknowledged at once (Slack
//! wants a 2xx within 3 s) and answered in its thread through the Web API ([`api`]), as
//! Block Kit ([`blocks`]). Each Events API `event_id` is claimed in the store before it is
//! answered, so Slack's retries, and other instances, never answer it twice.
//!
//! Who asks is the Slack user's account link ([`crate::auth::link`]): a linked user is
//! answered as their Cognito principal, under the group policy; an unlinked one, on live
//! data, gets only a private "Link your account" button. On the demo fleet (fake data)
//! unlinked users are answered too, as on every other channel.

pub mod api;
pub mod blocks;
pub mod verify;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use self::blocks::Message;
use self::verify::{SlackRefusal, SlackVerifier};
use super::Assistant;
use crate::auth::Caller;
use crate::auth::link::{LinkError, Links, SlackUser};
use crate::clock::Clock;
use crate::config::Secret;
use crate::dialog::{Mode, Phase, SessionContext, Surface, Turn};
use crate::store::{Store, StoreError, epoch};

/// How long an answered event id is remembered (Slack retries within minutes).
pub const EVENT_MEMORY: Duration = Duration::from_secs(60 * 60);
/// How long a claim on an event being answered holds. A process that dies mid-answer
/// leaves it to lapse, and Slack's next retry (after a minute) answers the event instead.
/// Longer than an answer can take: the deadline plus the Web API's whole call budget.
pub const CLAIM_LEASE: Duration = Duration::from_secs(30);
/// How long a thread's conversation context is kept.
pub const THREAD_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a slash command may take before it is acknowledged and answered later.
pub const COMMAND_WINDOW: Duration = Duration::from_millis(2500);
/// The longest question taken from Slack, in characters.
pub const MAX_QUESTION: usize = 1024;

/// Where in Slack an answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub channel: String,
    /// The thread to answer in (the message's own `ts` starts one).
    pub thread_ts: Option<String>,
}

/// An answer, and who may see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// In the channel or thread, for everyone there.
    Public(Message),
    /// Only for the user who asked (`chat.postEphemeral`).
    Private(Message),
}

impl Outgoing {
    #[must_use]
    pub fn message(&self) -> &Message {
        match self {
            Self::Public(m) | Self::Private(m) => m,
        }
    }
}

/// The Slack app.
#[derive(Debug)]
pub struct Slack {
    pub verifier: SlackVerifier,
    pub api: api::WebApi,
    /// Account linking, when it is set up.
    pub links: Option<Arc<Links>>,
    pub store: Arc<dyn Store>,
    pub assistant: Arc<Assistant>,
    /// Answer before acknowledging (Lambda freezes the process once it has answered, so
    /// nothing may be left running).
    pub inline: bool,
    pub clock: Arc<dyn Clock>,
}

/// Which way a verb of the slash command goes.
enum Command<'a> {
    Link,
    Unlink,
    Help,
    Ask(&'a str),
}

fn command(text: &str) -> Command<'_> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    match lower.trim_end_matches(['.', '!']) {
        "" | "help" | "?" => Command::Help,
        "link" | "sign in" | "signin" | "log in" | "login" => Command::Link,
        "unlink" | "sign out" | "signout" | "log out" | "logout" => Command::Unlink,
        _ => Command::Ask(t),
    }
}

/// `text` without user, channel and group mentions (`<@U123>`, `<!here>`, `<#C1|name>`).
fn without_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match tail.find('>') {
            Some(end) if matches!(tail.as_bytes().get(1), Some(b'@' | b'!' | b'#')) => {
                rest = &tail[end + 1..];
            }
            _ => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    // Slack sends &, < and > escaped.
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Slack {
    fn memory_key(user: &SlackUser, place: &Place) -> String {
        match &place.thread_ts {
            Some(thread) => format!("slack-ctx#{}#{}#{thread}", user.team, place.channel),
            None => format!("slack-ctx#{}#{}#@{}", user.team, place.channel, user.user),
        }
    }

    async fn context(&self, key: &str) -> SessionContext {
        match self.store.get(key).await {
            Ok(Some(json)) => SessionContext::decode(&json),
            Ok(None) => SessionContext::default(),
            Err(error) => {
                tracing::warn!(%error, "thread context unavailable; answering without it");
                SessionContext::default()
            }
        }
    }

    /// Who `user` is: their link's principal, or an anonymous caller on the demo fleet;
    /// otherwise the private answer to give instead.
    async fn caller(
        &self,
        user: &SlackUser,
        place: &Place,
    ) -> Result<(Caller, Option<Secret>), Outgoing> {
        let identity = &self.assistant.identity;
        if let Some(links) = &self.links {
            match links.principal(user).await {
                Ok(Some(linked)) => {
                    return Ok((
                        identity.caller_for(linked.principal),
                        Some(linked.access_token),
                    ));
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "a Slack user's link could not be checked");
                    if identity.anonymous().is_none() {
                        return Err(Outgoing::Private(blocks::notice(
                            "I can't check your sign-in right now. Try again in a minute.",
                        )));
                    }
                }
            }
        }
        if let Some(anonymous) = identity.anonymous() {
            return Ok((anonymous, None));
        }
        Err(self
            .offer(
                user,
                place,
                "I answer from live data only for people I know.",
            )
            .await)
    }

    /// The link button for `user`, or why there is none.
    async fn offer(&self, user: &SlackUser, place: &Place, why: &str) -> Outgoing {
        let Some(links) = &self.links else {
            return Outgoing::Private(blocks::notice(
                "Account linking is not set up on this opsvoice, so I can't answer you here. \
                 Whoever runs it can set OPSVOICE_PUBLIC_URL, OPSVOICE_COGNITO_DOMAIN and \
                 OPSVOICE_COGNITO_LINK_CLIENT_ID.",
            ));
        };
        match links.offer(user, Some(&place.channel)).await {
            Ok(url) => Outgoing::Private(blocks::link_prompt(&url, why)),
            Err(error) => {
                tracing::warn!(%error, "no link state could be made");
                Outgoing::Private(blocks::notice(
                    "I can't make a sign-in link right now. Try again in a minute.",
                ))
            }
        }
    }

    /// The answer to `text` from `user` at `place`.
    pub async fn reply(&self, user: &SlackUser, text: &str, place: &Place) -> Outgoing {
        let text: String = text.chars().take(MAX_QUESTION).collect();
        let question = match command(&text) {
            Command::Link => {
                return self
                    .offer(
                        user,
                        place,
                        "Link your Slack account to your sign-in, once.",
                    )
                    .await;
            }
            Command::Unlink => {
                let words = match &self.links {
                    Some(links) => match links.unlink(user).await {
                        Ok(true) => {
                            "Unlinked. I won't answer you from live data until you link again."
                        }
                        Ok(false) => "You weren't linked.",
                        Err(error) => {
                            tracing::warn!(%error, "unlink failed");
                            "I couldn't unlink you just now. Try again in a minute."
                        }
                    },
                    None => "Account linking is not set up here, so there is nothing to unlink.",
                };
                return Outgoing::Private(blocks::notice(words));
            }
            Command::Help => "help".to_owned(),
            Command::Ask(q) => q.to_owned(),
        };
        let (caller, token) = match self.caller(user, place).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        let key = Self::memory_key(user, place);
        if let Some(bot) = &self.assistant.lex {
            let session = lex_session(&key);
            let token = token.as_ref().map(Secret::expose_str);
            match bot.recognize(&question, &session, token).await {
                Ok(recognized) => {
                    return Outgoing::Public(blocks::notice(&recognized.plain.join("\n")));
                }
                Err(error) => tracing::warn!(
                    error = %crate::error::ErrorChain(&error),
                    "Lex RecognizeText failed; answering with the local matcher"
                ),
            }
        }
        let context = self.context(&key).await;
        let understood = self.assistant.understand_text(&question, &context).await;
        let turn = Turn {
            intent: understood.intent,
            slots: understood.slots,
            confirmation: crate::dialog::Confirmation::None,
            context,
            surface: Surface {
                mode: Mode::Text,
                platform: Some("Slack".to_owned()),
            },
            phase: Phase::Fulfil,
            transcript: Some(question.clone()),
            locale: "en-US".to_owned(),
            detail: false,
            principal: caller.principal,
            grants: caller.grants,
        };
        let exchange = self
            .assistant
            .converse(turn, crate::speech::Forms::Text)
            .await;
        let expires = self.clock.now() + THREAD_MEMORY;
        if let Err(error) = self
            .store
            .put(&key, &exchange.answer.context.encode(), expires)
            .await
        {
            tracing::warn!(%error, "thread context not saved");
        }
        Outgoing::Public(blocks::answer(&exchange, epoch(self.clock.now())))
    }

    /// Posts `out` at `place` (an ephemeral for `user` when private); whether Slack took it.
    pub async fn deliver(&self, user: &SlackUser, place: &Place, out: &Outgoing) -> bool {
        let mut body = out.message().fields();
        body.insert("channel".to_owned(), json!(place.channel));
        if let Some(thread) = &place.thread_ts {
            body.insert("thread_ts".to_owned(), json!(thread));
        }
        let method = match out {
            Outgoing::Public(_) => "chat.postMessage",
            Outgoing::Private(_) => {
                body.insert("user".to_owned(), json!(user.user));
                "chat.postEphemeral"
            }
        };
        match self.api.call(method, &Value::Object(body)).await {
            Ok(_) => {
                metrics::counter!("opsvoice_slack_posts_total", "outcome" => "posted").increment(1);
                true
            }
            Err(error) => {
                metrics::counter!("opsvoice_slack_posts_total", "outcome" => "failed").increment(1);
                tracing::warn!(%error, method, "a Slack answer could not be posted");
                false
            }
        }
    }

    /// Runs `work` now (Lambda) or in the background (`serve`).
    async fn run(self: &Arc<Self>, work: impl std::future::Future<Output = ()> + Send + 'static) {
        if self.inline {
            work.await;
        } else {
            tokio::spawn(work);
        }
    }

    /// Claims `event_id` for [`CLAIM_LEASE`]: `true` for the first delivery (or one whose
    /// claim lapsed), `false` for a retry of an event answered or being answered.
    async fn claim(&self, event_id: &str) -> Result<bool, StoreError> {
        self.store
            .create(
                &format!("slack-event#{event_id}"),
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
                &format!("slack-event#{event_id}"),
                "answering",
                self.clock.now() + wait + CLAIM_LEASE,
            )
            .await;
    }

    /// Settles a claim: an answer Slack took is remembered for [`EVENT_MEMORY`]; one it
    /// did not take is released, so Slack's next retry tries again.
    async fn settle(&self, event_id: &str, delivered: bool) {
        let key = format!("slack-event#{event_id}");
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

/// The store key of a mute of `subject` (`cluster/service`, or `alarm:<name>`) in `channel`.
#[must_use]
pub fn mute_key(channel: &str, subject: &str) -> String {
    format!("mute#{channel}#{subject}")
}

/// How long a card's "Mute for 1 hour" mutes.
pub const MUTE_FOR: Duration = Duration::from_secs(60 * 60);

impl Slack {
    /// Mutes `subject` in `place` for an hour, for `user` (who must be let in: linked, or
    /// on the demo), and says so in the card's thread.
    async fn mute(&self, user: &SlackUser, place: &Place, subject: &str) -> Outgoing {
        if let Err(refusal) = self.caller(user, place).await {
            return refusal;
        }
        let subject: String = subject.chars().take(300).collect();
        let until = self.clock.now() + MUTE_FOR;
        match self
            .store
            .put(&mute_key(&place.channel, &subject), &user.user, until)
            .await
        {
            Ok(()) => {
                tracing::info!(target: "opsvoice::audit", slack_user = %user.user, channel = %place.channel, subject = %subject, "muted for an hour");
                let shown = subject.strip_prefix("alarm:").unwrap_or(&subject);
                Outgoing::Public(blocks::notice(&format!(
                    "Muted {shown} here for an hour: its alarms and deployments post nothing until then."
                )))
            }
            Err(error) => {
                tracing::warn!(%error, "a mute could not be saved");
                Outgoing::Private(blocks::notice(
                    "I couldn't mute that just now. Try again in a minute.",
                ))
            }
        }
    }
}

/// A Lex session id for a Slack conversation: Lex allows 2 to 100 of `[0-9a-zA-Z._:-]`.
fn lex_session(key: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    format!(
        "slack.{}",
        crate::store::cipher::b64(&digest.as_ref()[..18])
            .replace('-', ".")
            .replace('_', ":")
    )
}

/// What the Slack routes share: the app, or `None` when Slack is not set up.
pub type SlackState = Option<Arc<Slack>>;

/// The Slack and account-link routes over `slack`.
pub fn router<S: Clone + Send + Sync + 'static>(slack: SlackState) -> axum::Router<S> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(EVENTS, post(events))
        .route(COMMANDS, post(commands))
        .route(INTERACTIONS, post(interactions))
        .route(LINK_START, get(link_start))
        .route(LINK_CALLBACK, get(link_callback))
        .with_state(slack)
}

/// The routes (DESIGN.md §6).
pub const EVENTS: &str = "/slack/events";
pub const COMMANDS: &str = "/slack/commands";
pub const INTERACTIONS: &str = "/slack/interactions";
pub const LINK_START: &str = "/link/start";
pub const LINK_CALLBACK: &str = "/link/callback";

/// The response to a refused Slack request: a 401 that says which rule failed.
fn refused(route: &'static str, refusal: SlackRefusal) -> Response {
    metrics::counter!("opsvoice_slack_requests_total", "route" => route, "outcome" => "refused")
        .increment(1);
    tracing::info!(route, %refusal, "Slack request refused");
    let status = StatusCode::UNAUTHORIZED;
    (
        status,
        axum::Json(json!({ "error": { "code": "unverified", "message": refusal.to_string() } })),
    )
        .into_response()
}

/// The verified body of a Slack request, or the response refusing it.
fn verified(
    state: &SlackState,
    route: &'static str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Arc<Slack>, Bytes), Box<Response>> {
    // An empty body is checked like any other: unsigned, it is a 401.
    let body = match body {
        Ok(bytes) => bytes,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "the request body is too large"
            } else {
                "could not read the request body"
            };
            return Err(Box::new(
                (
                    status,
                    axum::Json(json!({ "error": { "code": "bad_body", "message": message } })),
                )
                    .into_response(),
            ));
        }
    };
    let Some(slack) = state.clone() else {
        return Err(Box::new(refused(route, SlackRefusal::NotConfigured)));
    };
    if let Err(refusal) = slack.verifier.verify(headers, &body) {
        return Err(Box::new(refused(route, refusal)));
    }
    metrics::counter!("opsvoice_slack_requests_total", "route" => route, "outcome" => "verified")
        .increment(1);
    Ok((slack, body))
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": { "code": "bad_request", "message": message } })),
    )
        .into_response()
}

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
    body: Result<Bytes, BytesRejection>,
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
                slack.store.get(&format!("slack-event#{event_id}")).await,
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
        let out = slack.reply(&who, &text, &place).await;
        let delivered = slack.deliver(&who, &place, &out).await;
        slack.settle(&event_id, delivered).await;
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
        let out = worker.reply(&who, &text, &place).await;
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
    });
    StatusCode::OK.into_response()
}

/// How long `serve` waits before posting an answer Slack would not take, again.
const POST_RETRIES: [Duration; 3] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A slash command's or interaction's HTTP answer.
fn command_response(out: &Outgoing) -> Response {
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
    body: Result<Bytes, BytesRejection>,
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

#[derive(Debug, Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: InteractionUser,
    #[serde(default)]
    team: Option<Id>,
    #[serde(default)]
    channel: Option<Id>,
    #[serde(default)]
    container: Option<Container>,
    #[serde(default)]
    message: Option<Posted>,
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    response_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InteractionUser {
    id: String,
    #[serde(default)]
    team_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Id {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Container {
    #[serde(default)]
    is_ephemeral: bool,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    message_ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Posted {
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    value: Option<String>,
}

/// `POST /slack/interactions`: a follow-up button pressed (its value is the question,
/// answered in the same thread as the person who pressed it), or the link button (a URL
/// button: the browser opens it; there is nothing to do here).
pub async fn interactions(
    State(state): State<SlackState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
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
    let Some(action) = interaction
        .actions
        .iter()
        .find(|a| a.action_id.starts_with(blocks::ASK_ACTION) || a.action_id == MUTE_ACTION)
    else {
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
    let worker = slack.clone();
    slack
        .run(async move {
            let out = if muting {
                worker.mute(&who, &place, &question).await
            } else {
                worker.reply(&who, &question, &place).await
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
            worker.deliver(&who, &place, &out).await;
        })
        .await;
    StatusCode::OK.into_response()
}

/// The action id of a notification card's "Mute for 1 hour" button.
pub const MUTE_ACTION: &str = "mute";

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A plain page: a title and one paragraph, escaped.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><h1>{}</h1><p>{}</p></body></html>",
        esc(title),
        esc(title),
        esc(text)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("static header"),
    );
    headers.insert(
        "content-security-policy",
        "default-src 'none'".parse().expect("static header"),
    );
    response
}

fn link_failure(error: &LinkError) -> Response {
    let status = if error.is_outage() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::BAD_REQUEST
    };
    tracing::info!(%error, "account link refused");
    // An outage's cause stays in the log; the page says what to do.
    let text = if error.is_outage() {
        "Signing in cannot be finished right now. Try again in a minute, from Slack.".to_owned()
    } else {
        error.to_string()
    };
    page(status, "Not linked", &text)
}

fn links(state: &SlackState) -> Option<Arc<Links>> {
    state.as_ref().and_then(|s| s.links.clone())
}

/// `GET /link/start?state=…`: to the hosted UI, with PKCE.
pub async fn link_start(
    State(state): State<SlackState>,
    Query(query): Query<LinkQuery>,
) -> Response {
    let Some(links) = links(&state) else {
        return page(
            StatusCode::NOT_FOUND,
            "Not linked",
            "Account linking is not set up on this server.",
        );
    };
    let Some(link_state) = query.state.filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not linked",
            "The link has no state; ask for a new one in Slack.",
        );
    };
    match links.authorize_url(&link_state).await {
        Ok(url) => {
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(location) = url.parse() {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                "no-store".parse().expect("static header"),
            );
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                "no-referrer".parse().expect("static header"),
            );
            response
        }
        Err(error) => link_failure(&error),
    }
}

/// `GET /link/callback?code=…&state=…`: the link stored, the user told.
pub async fn link_callback(
    State(state): State<SlackState>,
    Query(query): Query<LinkQuery>,
) -> Response {
    let Some(links) = links(&state) else {
        return page(
            StatusCode::NOT_FOUND,
            "Not linked",
            "Account linking is not set up on this server.",
        );
    };
    if let Some(error) = query.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        return page(
            StatusCode::BAD_REQUEST,
            "Not linked",
            &format!("The sign-in did not finish ({error}). Start again from Slack."),
        );
    }
    let (Some(code), Some(link_state)) = (query.code, query.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not linked",
            "The sign-in came back without a code or state. Start again from Slack.",
        );
    };
    match links.complete(&code, &link_state).await {
        Ok(done) => {
            if let Some(slack) = &state {
                let said = format!(
                    "Linked as {}. Ask me anything, for example \"any alarms firing?\"",
                    done.principal.username
                );
                let out = Outgoing::Private(blocks::notice(&said));
                let place = Place {
                    channel: done
                        .channel
                        .clone()
                        .unwrap_or_else(|| done.user.user.clone()),
                    thread_ts: None,
                };
                let (slack, user) = (slack.clone(), done.user.clone());
                let worker = slack.clone();
                slack
                    .run(async move {
                        worker.deliver(&user, &place, &out).await;
                    })
                    .await;
            }
            page(
                StatusCode::OK,
                "Linked",
                &format!(
                    "Linked as {}. You can close this tab.",
                    done.principal.username
                ),
            )
        }
        Err(error) => link_failure(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_taken_out_of_questions() {
        assert_eq!(
            without_mentions("<@U0LAN0Z89> how is checkout doing?"),
            "how is checkout doing?"
        );
        assert_eq!(
            without_mentions("<!here>  any alarms &gt; 3 <#C1|ops>"),
            "any alarms > 3"
        );
        assert_eq!(without_mentions("a < b"), "a < b");
    }

    #[test]
    fn command_words() {
        assert!(matches!(command(" Link "), Command::Link));
        assert!(matches!(command("sign out"), Command::Unlink));
        assert!(matches!(command(""), Command::Help));
        assert!(matches!(
            command("how is checkout"),
            Command::Ask("how is checkout")
        ));
    }

    #[test]
    fn lex_sessions_fit_lex() {
        let s = lex_session("slack-ctx#T1#C1#1700000000.000100");
        assert!(s.len() <= 100 && s.len() >= 2);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c)),
            "{s}"
        );
    }
}
