//! The native Slack app (the README's "Slack" section): `POST /slack/events`, `/slack/commands` and
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
//!
//! Each route has its file (`events.rs`, `commands.rs`, `interactions.rs`, and
//! `link_pages.rs` for the account-link pages); `answer.rs` is how a question from any of
//! them is answered and posted, and `ack.rs` is an alarm card's Acknowledge button.

pub mod ack;
pub mod acting;
mod answer;
pub mod api;
pub mod blocks;
pub mod chart;
mod commands;
mod events;
mod interactions;
mod link_pages;
pub mod verify;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use self::blocks::Message;
use self::verify::{SlackRefusal, SlackVerifier};
use super::Assistant;
use crate::auth::link::Links;
use crate::clock::Clock;
use crate::http::HttpError;
use crate::store::Store;

pub use self::commands::commands;
pub use self::events::events;
pub use self::interactions::interactions;
pub use self::link_pages::{LinkQuery, link_callback, link_start};

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
    /// Whoever owns the alarm cards whose Acknowledge buttons are pressed here (the
    /// notifier, when notifications are set up).
    pub cards: Option<Arc<dyn ack::Acknowledge>>,
}

/// How long a card's "Mute for 1 hour" mutes.
pub const MUTE_FOR: Duration = Duration::from_secs(60 * 60);

/// The action id of a notification card's "Mute for 1 hour" button.
pub const MUTE_ACTION: &str = "mute";

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

/// The routes (fixed: `infra/slack-manifest.json` and every installed app point at them).
pub const EVENTS: &str = "/slack/events";
pub const COMMANDS: &str = "/slack/commands";
pub const INTERACTIONS: &str = "/slack/interactions";
pub const LINK_START: &str = "/link/start";
pub const LINK_CALLBACK: &str = "/link/callback";

/// The response to a refused Slack request: a 401 that says which rule failed.
fn refused(route: &'static str, refusal: SlackRefusal) -> Response {
    metrics::counter!("opsvoice_slack_requests_total", "route" => route, "outcome" => "refused")
        .increment(1);
    HttpError::new(StatusCode::UNAUTHORIZED, "unverified", refusal.to_string())
        .because(refusal)
        .into_response()
}

/// The verified body of a Slack request, or the response refusing it.
fn verified(
    state: &SlackState,
    route: &'static str,
    headers: &HeaderMap,
    body: Result<crate::http::Body, crate::http::HttpError>,
) -> Result<(Arc<Slack>, Bytes), Box<Response>> {
    // An empty body is checked like any other: unsigned, it is a 401.
    let body = match body {
        Ok(crate::http::Body(bytes)) => bytes,
        Err(error) => return Err(Box::new(error.into_response())),
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

fn bad_request(message: &'static str) -> Response {
    HttpError::new(StatusCode::BAD_REQUEST, "bad_request", message).into_response()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}
