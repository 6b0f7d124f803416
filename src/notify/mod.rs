//! Speaking first: alarm and deployment events in (EventBridge through the Lambda entry, or
//! SNS through `POST /events`), cards out to Slack, and a log of what happened for
//! "what did I miss?".
//!
//! - [`event`] reads the wire shapes; [`sns`] verifies SNS deliveries; [`routes`] says which
//!   channel gets what, for which group; [`card`] writes the Block Kit (its words are
//!   `prompts/en-US/notify.ftl`'s).
//! - [`intake`]: [`Notifier::accept`] records an event once (its id is claimed in the
//!   store), logs it in the [`crate::eventlog`] for `WhatHappened`, and turns it into
//!   delivery jobs for every route whose group may see it. An alarm episode is one record
//!   per channel and alarm, created with a conditional write, so two processes never open
//!   it twice; repeats and flapping fold into its thread; OK edits its card. An event that
//!   makes no card is logged and counted with its reason.
//! - [`queue`]: jobs wait in the store ([`Job`]) and [`Notifier::deliver_due`] runs them. A
//!   job is leased (a conditional write) before it is posted, so two processes never post
//!   it twice; a post Slack refuses for now (429, 5xx, a timeout) is put back with backoff
//!   (or `Retry-After`), across restarts, until it is posted or an hour old.
//! - [`post`]: what a job posts. New episodes wait a few seconds first, so a burst becomes
//!   one summary card.
//! - [`origin`]: which configured account (`OPSVOICE_ACCOUNTS_FILE`) an event comes
//!   from; with accounts configured, an event keeps its account and region through its
//!   episode, its keys and its card, and one from an account not listed is dropped.
//! - [`ack`]: an alarm card's Acknowledge button: recorded once, audited, logged, and kept
//!   on the card through every later edit.

pub mod ack;
pub mod card;
pub mod event;
pub mod http;
mod intake;
pub mod origin;
mod post;
mod queue;
pub mod routes;
pub mod sns;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use self::routes::Routes;
use crate::channel::Assistant;
use crate::channel::slack::api::WebApi;
use crate::clock::Clock;
use crate::ops::ServiceRef;
use crate::store::Store;

pub use self::queue::Job;

/// How long a new episode's card waits for others to arrive (a burst becomes one card).
pub const SETTLE: Duration = Duration::from_secs(3);
/// How many new episodes in one channel within [`SETTLE`] make a burst.
pub const BURST: usize = 3;
/// How long after a burst card new episodes in that channel fold into its thread.
pub const BURST_WINDOW: Duration = Duration::from_secs(60);
/// An alarm that fires again this soon after resolving continues its episode (flapping).
pub const FLAP_WINDOW: Duration = Duration::from_secs(15 * 60);
/// A post still undelivered this long after its event is dropped (too old to matter).
pub const MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// A post delivered this long after its event says it is late.
pub const LATE: Duration = Duration::from_secs(120);
/// How long a worker holds a job it is posting: longer than the most one job can take
/// (the answer deadline for the health line, the Web API's 15 s call budget, the store).
pub const LEASE: Duration = Duration::from_secs(120);
/// How long a worker may decide a channel's new cards.
pub const CARD_LOCK: Duration = LEASE;
/// How long events are remembered (for dedupe and for "what did I miss?").
pub const MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

/// What happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded, and jobs made for these many channels.
    Accepted(usize),
    /// Already seen (a repeated delivery).
    Duplicate,
    /// Being recorded by another delivery of the same event right now: the sender
    /// should retry (it will then be a duplicate, or, if that one died, recorded).
    Busy,
    /// From an account the accounts file does not list: dropped and counted, never
    /// posted (the sender must not retry it).
    UnknownAccount,
}

/// How long a claim on an event being recorded holds.
pub const RECORDING: Duration = Duration::from_secs(60);

/// An alarm episode in one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Episode {
    alarm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<ServiceRef>,
    firing: bool,
    opened_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolved_at: Option<i64>,
    /// The card's `ts`, once posted (for a burst, the summary's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ts: Option<String>,
    /// Whether the card is the summary's (then OK replies in the thread only).
    #[serde(default)]
    summarised: bool,
    fires: u32,
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
    /// A metric-math alarm's expression (its label, or the expression itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expression: Option<String>,
    /// Its actions are suppressed (a composite alarm in a wait or extension period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suppressed: Option<card::Suppressed>,
    /// The account and region, when accounts are configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<origin::Origin>,
}

impl Episode {
    /// What names the episode in its channel: the alarm's name, with its account and
    /// region in front when accounts are configured (one alarm name in two accounts is
    /// two episodes). The episode's key, its acknowledgement's and its Acknowledge button
    /// all use it.
    fn scoped(&self) -> String {
        scoped(self.origin.as_ref(), &self.alarm)
    }
}

/// `name`, placed in `origin`'s account and region when there is one (`prod@eu-west-1#name`).
fn scoped(origin: Option<&origin::Origin>, name: &str) -> String {
    match origin {
        None => name.to_owned(),
        Some(o) => format!("{}#{name}", o.place()),
    }
}

impl crate::store::record::Record for Episode {
    const KIND: &'static str = "alarm episode";
}

/// The notifier.
pub struct Notifier {
    pub routes: Routes,
    store: Arc<dyn Store>,
    api: WebApi,
    assistant: Arc<Assistant>,
    clock: Arc<dyn Clock>,
    /// Deliver before answering (Lambda freezes the process once it has answered).
    pub inline: bool,
    wake: tokio::sync::Notify,
    /// The configured accounts (`None`: no accounts file, events taken as they come).
    accounts: Option<origin::Accounts>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("routes", &self.routes.0.len())
            .finish_non_exhaustive()
    }
}

fn count(source: &'static str, kind: &str, outcome: &'static str) {
    metrics::counter!("opsvoice_events_total", "source" => source, "kind" => kind.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Counts and logs an event that cannot be used (a kind we do not use, or one missing
/// what we need): never dropped silently. Its `source` and `detail-type` are the sender's
/// words, so they are logged escaped.
pub fn unusable(error: &event::Unusable) {
    count(error.source_label, "unusable", "unusable");
    metrics::counter!("opsvoice_events_skipped_total", "kind" => "unusable", "reason" => error.reason)
        .increment(1);
    tracing::warn!(
        via = error.source_label,
        source = %crate::telemetry::escape_controls(&error.event_source),
        detail_type = %crate::telemetry::escape_controls(&error.kind),
        why = %crate::telemetry::escape_controls(&error.why),
        reason = error.reason,
        "event not used"
    );
}

/// Counts and logs an event that made no card, with its reason (a bounded set: `state`,
/// `no_route`, `policy`, `muted`, `suppressed`, `log_only`, `unrouted`, and for events
/// that cannot be used `unsupported` and `malformed`). These are expected, so they log at
/// debug; `/metrics` counts them as `opsvoice_events_skipped_total{kind, reason}`.
pub fn skipped(kind: &'static str, reason: &'static str, subject: &str) {
    metrics::counter!("opsvoice_events_skipped_total", "kind" => kind, "reason" => reason)
        .increment(1);
    tracing::debug!(
        kind,
        reason,
        subject = %crate::telemetry::escape_controls(subject),
        "event made no card"
    );
}

impl Notifier {
    #[must_use]
    pub fn new(
        routes: Routes,
        store: Arc<dyn Store>,
        api: WebApi,
        assistant: Arc<Assistant>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            routes,
            store,
            api,
            assistant,
            clock,
            inline: false,
            wake: tokio::sync::Notify::new(),
            accounts: None,
        }
    }

    /// The notifier with the accounts file's accounts: events keep their account and
    /// region, cards name them, routes' `accounts` globs apply, and events from an account
    /// not listed are dropped.
    #[must_use]
    pub fn with_accounts(mut self, accounts: origin::Accounts) -> Self {
        self.accounts = Some(accounts);
        self
    }

    /// After an event is accepted: wakes the delivery loop (`serve`), or delivers now, for
    /// as long as a new card waits for a burst (Lambda).
    pub async fn deliver_soon(&self) {
        if self.inline {
            self.drain(SETTLE + Duration::from_secs(2)).await;
        } else {
            self.wake.notify_one();
        }
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The words of the cards and their threads (chat, the default locale).
    fn say(&self) -> crate::speech::render::Say<'_> {
        self.assistant.renderer.say(
            crate::speech::render::DEFAULT_LOCALE,
            crate::dialog::Mode::Text,
        )
    }
}

/// How long after a new episode it takes to close (in minutes, at least one).
fn resolved_minutes(episode: &Episode) -> u64 {
    let secs = episode.resolved_at.unwrap_or(episode.opened_at) - episode.opened_at;
    u64::try_from(secs.max(0)).unwrap_or(0).div_ceil(60).max(1)
}
