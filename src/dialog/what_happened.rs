//! WhatHappened: "what did I miss?", "catch me up", "what just fired". What fired (and
//! whether it is still firing or resolved), and which deployments failed or rolled back,
//! in a window (30 minutes unless one is named), newest first.
//!
//! An alarm someone took with its card's Acknowledge button says who.
//!
//! Two sources, merged by name: the event log the notifier writes (every alarm and
//! deployment event it was told about, kept a day; [`crate::eventlog`]), which knows what fired
//! and resolved in between; and the live data, which knows what is firing now and which
//! deployments failed, so the answer is right even where no events are routed here.

use std::time::{Duration, SystemTime};

use super::{Answer, Dialog, Reply, Slot, Turn, parse_window};
use crate::eventlog::What;
use crate::ops::{AlarmState, DeploymentOutcome, OpsError, ServiceRef};

/// The window used when the user names none.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 60);
/// One thing that happened, as the answer tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An alarm fired `ago`; `lasted` is how long, if it has resolved; `acked_by` is who
    /// acknowledged it (a username), if someone did.
    Fired {
        alarm: String,
        ago: Duration,
        lasted: Option<Duration>,
        acked_by: Option<String>,
    },
    RolledBack { service: ServiceRef, ago: Duration },
    Failed { service: ServiceRef, ago: Duration },
    /// An ECS service action at `WARN` or `ERROR` (`event` is its name, such as
    /// `SERVICE_TASK_START_IMPAIRED`).
    ServiceAction { service: ServiceRef, event: String, ago: Duration },
    /// An action of ours ended: who did what to `subject`, approved by whom, and how.
    Acted {
        subject: String,
        service: Option<ServiceRef>,
        acted: crate::eventlog::Acted,
        ended: i64,
        ago: Duration,
    },
}

impl Item {
    /// The service a deployment item is about.
    fn deployed(&self) -> Option<&ServiceRef> {
        match self {
            Self::RolledBack { service, .. } | Self::Failed { service, .. } => Some(service),
            Self::Fired { .. } | Self::ServiceAction { .. } | Self::Acted { .. } => None,
        }
    }

    fn ago(&self) -> Duration {
        match self {
            Self::Fired { ago, .. }
            | Self::RolledBack { ago, .. }
            | Self::Failed { ago, .. }
            | Self::ServiceAction { ago, .. }
            | Self::Acted { ago, .. } => *ago,
        }
    }
}

/// The facts of a WhatHappened answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub window: Duration,
    /// Newest first.
    pub items: Vec<Item>,
}

/// The newest action of ours that ended in the last day on what `about` picks (a service,
/// or an alarm by name), told as "what did I miss?" tells it: so "who restarted cart" and
/// "who muted the pricing alarm" hear who, on the answer they get. Nothing when the log is
/// unavailable, or the caller may not see it.
pub(super) async fn last_acted(
    dialog: &Dialog,
    turn: &Turn,
    about: impl Fn(&crate::eventlog::Happening) -> bool,
) -> Option<Item> {
    let log = dialog.log()?;
    let entries = match crate::eventlog::read(log.as_ref()).await {
        Ok(entries) => entries,
        Err(error) => {
            tracing::warn!(%error, "the event log is unavailable; answering without who acted");
            return None;
        }
    };
    let since = crate::store::epoch(dialog.now() - Duration::from_secs(24 * 3600));
    let at = |secs: i64| SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    entries
        .into_iter()
        .filter(|h| h.what == What::ActionFinished && h.at >= since && about(h))
        // Only what the caller may see, in an account it may see (events carry theirs).
        .filter(|h| {
            turn.grants
                .sees_in(turn.intent, h.account.as_deref(), h.service.as_ref())
        })
        .max_by_key(|h| h.at)
        .and_then(|h| {
            Some(Item::Acted {
                ago: dialog.age(at(h.at)),
                subject: h.subject,
                service: h.service,
                acted: h.acted?,
                ended: h.at,
            })
        })
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let window = turn
        .slots
        .get(&Slot::Window)
        .and_then(|w| parse_window(w))
        .unwrap_or(DEFAULT_WINDOW);
    let now = dialog.now();
    let since = now - window;
    // What the caller may see: the service (or, tied to none, everything) in the account
    // it happened in (`None` without accounts).
    let may_see = |account: Option<&str>, service: Option<&ServiceRef>| {
        turn.grants.sees_in(turn.intent, account, service)
    };
    // Per alarm: when it first fired in the window, and when it last resolved after that.
    let mut alarms: Vec<(String, SystemTime, Option<SystemTime>)> = Vec::new();
    let mut deployments: Vec<Item> = Vec::new();
    // Per service and action, the newest (a service that keeps failing to start tasks says
    // so again and again).
    let mut actions: Vec<Item> = Vec::new();
    // Who acknowledged which alarm, and when (in log order).
    let mut acks: Vec<(String, String, SystemTime)> = Vec::new();
    let at = |secs: i64| SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    if let Some(log) = dialog.log() {
        match crate::eventlog::read(log.as_ref()).await {
            Ok(entries) => {
                for h in entries {
                    if h.at < crate::store::epoch(since) || !may_see(h.account.as_deref(), h.service.as_ref()) {
                        continue;
                    }
                    match h.what {
                        What::AlarmFired => match alarms.iter_mut().find(|(a, ..)| *a == h.subject) {
                            Some(entry) => entry.2 = None,
                            None => alarms.push((h.subject.clone(), at(h.at), None)),
                        },
                        What::AlarmResolved => {
                            if let Some(entry) = alarms.iter_mut().find(|(a, ..)| *a == h.subject) {
                                entry.2 = Some(at(h.at));
                            }
                        }
                        What::DeploymentRolledBack | What::DeploymentFailed => {
                            if let Some(service) = h.service.clone() {
                                let ago = dialog.age(at(h.at));
                                deployments.retain(|d| d.deployed() != Some(&service));
                                deployments.push(if h.what == What::DeploymentRolledBack {
                                    Item::RolledBack { service, ago }
                                } else {
                                    Item::Failed { service, ago }
                                });
                            }
                        }
                        What::ServiceWarning => {
                            if let Some(service) = h.service.clone() {
                                let ago = dialog.age(at(h.at));
                                actions.retain(|a| {
                                    !matches!(a, Item::ServiceAction { service: s, event, .. }
                                        if *s == service && *event == h.subject)
                                });
                                actions.push(Item::ServiceAction { service, event: h.subject.clone(), ago });
                            }
                        }
                        What::ActionFinished => {
                            if let Some(acted) = h.acted.clone() {
                                actions.push(Item::Acted {
                                    subject: h.subject.clone(),
                                    service: h.service.clone(),
                                    acted,
                                    ended: h.at,
                                    ago: dialog.age(at(h.at)),
                                });
                            }
                        }
                        What::AlarmAcknowledged => {
                            if let Some(by) = h.by.clone() {
                                acks.push((h.subject.clone(), by, at(h.at)));
                            }
                        }
                        What::DeploymentCompleted => {}
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "the event log is unavailable; answering from live data"),
        }
    }
    let ops = dialog.ops();
    let (firing, changed) = tokio::join!(ops.firing_alarms(), ops.deployments_since(since));
    for alarm in firing? {
        if alarm.state != AlarmState::Alarm || alarm.since < since || !may_see(None, alarm.service.as_ref()) {
            continue;
        }
        match alarms.iter_mut().find(|(a, ..)| *a == alarm.name) {
            // Firing now: whatever the log says about a resolve, it is firing again.
            Some(entry) => entry.2 = None,
            None => alarms.push((alarm.name.clone(), alarm.since, None)),
        }
    }
    for record in changed.unwrap_or_default() {
        if !turn.grants.service(turn.intent, &record.service) {
            continue;
        }
        let when = record.finished_at.unwrap_or(record.started_at);
        if when < since {
            continue;
        }
        let ago = dialog.age(when);
        let item = match record.outcome {
            DeploymentOutcome::RolledBack => Item::RolledBack { service: record.service.clone(), ago },
            DeploymentOutcome::Failed => Item::Failed { service: record.service.clone(), ago },
            _ => continue,
        };
        if !deployments.iter().any(|d| d.deployed() == Some(&record.service)) {
            deployments.push(item);
        }
    }
    let mut items: Vec<Item> = alarms
        .into_iter()
        .map(|(alarm, fired, resolved)| Item::Fired {
            // The latest acknowledgement since it fired (an earlier one was another
            // episode's).
            acked_by: acks
                .iter()
                .rev()
                .find(|(a, _, when)| *a == alarm && *when >= fired)
                .map(|(_, by, _)| by.clone()),
            ago: dialog.age(fired),
            lasted: resolved.map(|r| crate::clock::age(r, fired)),
            alarm,
        })
        .chain(deployments)
        .chain(actions)
        .collect();
    items.sort_by_key(Item::ago);
    let report = Report { window, items };
    Ok(Answer::about(turn, Reply::from(report), None))
}

// What this answer says: its sentences, its links (chat) and its card.

use crate::speech::render::{Button, Say, n, s};

pub(crate) fn item(say: &Say<'_>, item: &Item) -> String {
    match item {
        Item::Fired { alarm, ago, lasted: None, acked_by: None } => say.msg(
            "happened-firing",
            [("alarm", s(say.name(alarm))), ("age", s(say.duration(*ago)))],
        ),
        Item::Fired { alarm, ago, lasted: None, acked_by: Some(who) } => say.msg(
            "happened-firing-acked",
            [("alarm", s(say.name(alarm))), ("age", s(say.duration(*ago))), ("who", s(say.name(who)))],
        ),
        Item::Fired { alarm, ago, lasted: Some(lasted), acked_by: None } => say.msg(
            "happened-resolved",
            [
                ("alarm", s(say.name(alarm))),
                ("age", s(say.duration(*ago))),
                ("lasted", s(say.duration(*lasted))),
            ],
        ),
        Item::Fired { alarm, ago, lasted: Some(lasted), acked_by: Some(who) } => say.msg(
            "happened-resolved-acked",
            [
                ("alarm", s(say.name(alarm))),
                ("age", s(say.duration(*ago))),
                ("lasted", s(say.duration(*lasted))),
                ("who", s(say.name(who))),
            ],
        ),
        Item::RolledBack { service, ago } => say.msg(
            "happened-rolled-back",
            [("service", s(say.service(service))), ("age", s(say.duration(*ago)))],
        ),
        Item::Failed { service, ago } => say.msg(
            "happened-failed",
            [("service", s(say.service(service))), ("age", s(say.duration(*ago)))],
        ),
        Item::Acted { subject, service, acted, ended, .. } => {
            let place = service.as_ref().map_or_else(String::new, |s| say.name(&s.cluster));
            say.msg(
                "happened-acted",
                [
                    ("verb", s(if acted.unsilence { "unsilence".to_owned() } else { acted.verb.clone() })),
                    ("by", s(say.name(&acted.by))),
                    ("target", s(say.name(subject))),
                    ("cluster", s(place)),
                    ("approver", s(acted.approved_by.as_deref().map(|a| say.name(a)).unwrap_or_default())),
                    ("asked", s(say.clock(acted.asked_at))),
                    ("ended", s(say.clock(*ended))),
                    ("outcome", s(acted.outcome.clone())),
                ],
            )
        }
        Item::ServiceAction { service, event, ago } => say.msg(
            "happened-service-action",
            [
                ("service", s(say.service(service))),
                ("event", s(event.clone())),
                ("age", s(say.duration(*ago))),
            ],
        ),
    }
}

/// The sentences: how much happened, then the items (voice: as many as fit).
pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    let window = s(say.window(r.window));
    if r.items.is_empty() {
        return vec![say.msg("happened-none", [("window", window)])];
    }
    let mut out = vec![say.msg(
        "happened-count",
        [("count", n(r.items.len() as f64)), ("window", window)],
    )];
    // Spoken: the newest, then how many more (a room catching up hears the headline, and
    // "tell me more" for the rest); detail gives the voice list its usual length.
    let shown = match (say.voice(), detail) {
        (true, false) => 1,
        (true, true) => say.max_items(true),
        (false, _) => 3,
    };
    for i in r.items.iter().take(shown) {
        out.push(item(say, i));
    }
    if r.items.len() > shown && say.voice() && !detail {
        out.push(say.msg("happened-more", [("count", n((r.items.len() - shown) as f64))]));
    }
    out
}

/// Every item, as a list (to twelve).
pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    r.items.iter().skip(3).take(12).map(|i| format!("• {}", item(say, i))).collect()
}

/// The card: the alarms now, what changed, and more.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    let mut buttons = vec![
        say.button("button-alarms", say.msg("say-alarms", [])),
        say.button("button-changes", say.msg("say-changes", [])),
    ];
    if r.items.len() > 1 {
        buttons.push(say.more());
    }
    ("happened", buttons)
}
