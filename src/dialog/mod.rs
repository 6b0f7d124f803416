//! The conversation, independent of any channel: a [`Turn`] goes in, an [`Answer`] comes out.
//!
//! An `Answer` is data (facts plus a dialog [`Move`]), not text; `speech` turns it into
//! words. There is one file per intent, each with the same shape: resolve what the question
//! is about (asking back when it is missing or unclear), fetch the facts from
//! [`OpsSource`], and return a report. Upstream failures become spoken answers, never errors.

pub mod active_alarms;
pub mod alarm_detail;
mod builtins;
pub mod can_fulfill;
pub mod context;
pub mod deployment_status;
pub mod fleet_summary;
pub mod metric_query;
pub mod resolve;
pub mod service_health;
pub mod what_changed;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use crate::error::ErrorChain;
pub use crate::vocab::{Intent, Slot, Slots};
pub use context::{Pending, SessionContext};
use resolve::Match;

use crate::clock::Clock;
use crate::ops::{MetricKind, OpsError, OpsSource, ServiceRef};

/// Voice answers are spoken and short; text answers may list and link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Voice,
    Text,
}

/// Where the answer will be heard or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surface {
    pub mode: Mode,
    /// The platform, e.g. `Slack`, `Alexa`, `cli`, when known.
    pub platform: Option<String>,
}

/// Whether the channel is still collecting slots or asks us to fulfil the intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Collect,
    Fulfil,
}

/// The user's answer to a confirmation question, as the platform reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Confirmation {
    #[default]
    None,
    Confirmed,
    Denied,
}

/// One channel-neutral turn of the conversation.
#[derive(Debug, Clone)]
pub struct Turn {
    pub intent: Intent,
    pub slots: Slots,
    pub confirmation: Confirmation,
    pub context: SessionContext,
    pub surface: Surface,
    pub phase: Phase,
    /// What the user said or typed, when the channel has it.
    pub transcript: Option<String>,
    pub locale: String,
    /// Answer in detail ("tell me more").
    pub detail: bool,
    /// Who is asking (`None`: anonymous, allowed only on the demo fleet).
    pub principal: Option<crate::auth::Principal>,
    /// What the caller may ask about.
    pub grants: crate::auth::policy::Grants,
}

impl Turn {
    /// A turn for `intent` with no slots and no context, answered now.
    #[must_use]
    pub fn new(intent: Intent, mode: Mode) -> Self {
        Self {
            intent,
            slots: Slots::new(),
            confirmation: Confirmation::None,
            context: SessionContext::default(),
            surface: Surface {
                mode,
                platform: None,
            },
            phase: Phase::Fulfil,
            transcript: None,
            locale: "en-US".to_owned(),
            detail: false,
            principal: None,
            grants: crate::auth::policy::Grants::all(),
        }
    }

    /// Sets a slot (builder style).
    #[must_use]
    pub fn with_slot(mut self, slot: Slot, value: impl Into<String>) -> Self {
        self.slots.insert(slot, value.into());
        self
    }
}

/// What the channel should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// The question is answered.
    Close,
    /// The question could not be answered (upstream down, internal error).
    Fail,
    /// Ask the user for a slot value.
    ElicitSlot(Slot),
    /// Ask the user to confirm what we understood.
    ConfirmIntent,
    /// Say something and wait for a new question.
    ElicitIntent,
    /// Let the platform carry on with its own dialog management.
    Delegate,
}

/// The facts of a reply; `speech::render` turns them into words.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Health(service_health::Report),
    Deployment(deployment_status::Report),
    Alarms(active_alarms::Report),
    AlarmDetail(alarm_detail::Report),
    Metric(metric_query::Report),
    Fleet(fleet_summary::Report),
    Changes(what_changed::Report),
    /// Ask for a missing slot.
    Ask(Slot),
    WhichService(Vec<ServiceRef>),
    WhichCluster {
        service: String,
        clusters: Vec<String>,
    },
    WhichAlarm(Vec<String>),
    DidYouMean(ServiceRef),
    UnknownService(String),
    UnknownCluster(String),
    UnknownAlarm(String),
    UnknownMetric(String),
    NoFiringAlarm(ServiceRef),
    /// The caller may not ask this; said the same whether or not the thing exists.
    Denied,
    /// The caller is not signed in (or their token was refused).
    SignIn,
    /// The caller's sign-in cannot be checked right now (the pool's keys are unreachable).
    SignInUnavailable,
    Welcome,
    Help,
    Goodbye,
    Fallback,
    NothingToRepeat,
    /// The sentences of the previous reply, said again.
    Said(Vec<String>),
    /// An upstream system could not be reached.
    Unavailable(&'static str),
    /// The answer took longer than the channel allows.
    TooSlow,
    /// Something went wrong on our side.
    InternalError,
}

/// The outcome of a turn.
#[derive(Debug, Clone)]
pub struct Answer {
    pub intent: Intent,
    /// The slots as resolved, to echo back to the platform.
    pub slots: Slots,
    pub reply: Reply,
    pub next: Move,
    /// The context to carry into the next turn.
    pub context: SessionContext,
    pub detail: bool,
    /// Set when part of the answer came from stale data because an upstream failed.
    pub stale: Option<crate::ops::freshness::Stale>,
}

impl Answer {
    /// An answer to `turn` that keeps its slots and context.
    #[must_use]
    pub fn to(turn: &Turn, reply: Reply, next: Move) -> Self {
        Self {
            intent: turn.intent,
            slots: turn.slots.clone(),
            reply,
            next,
            context: turn.context.clone(),
            detail: turn.detail,
            stale: None,
        }
    }

    /// An answer that asks back and remembers what to do with the reply.
    fn ask(turn: &Turn, reply: Reply, next: Move, pending: Pending) -> Self {
        let mut answer = Self::to(turn, reply, next);
        answer.context.pending = Some(pending);
        answer
    }

    /// A completed answer about `service` (remembered for follow-ups).
    fn about(turn: &Turn, reply: Reply, service: Option<&ServiceRef>) -> Self {
        let mut answer = Self::to(turn, reply, Move::Close);
        if let Some(service) = service {
            answer.context.service = Some(service.clone());
            answer.slots.insert(Slot::Service, service.name.clone());
            answer.context.cluster = Some(service.cluster.clone());
        }
        answer.context.pending = None;
        answer.context.last = Some(context::Asked {
            intent: turn.intent,
            slots: answer.slots.clone(),
        });
        answer
    }
}

/// Either the thing a handler needs, or the answer that asks the user for it.
pub(crate) enum Need<T> {
    Have(T),
    Ask(Box<Answer>),
}

/// Resolves a `Need` or returns its asking answer from the enclosing handler.
macro_rules! need {
    ($e:expr) => {
        match $e {
            $crate::dialog::Need::Have(v) => v,
            $crate::dialog::Need::Ask(answer) => return Ok(*answer),
        }
    };
}
pub(crate) use need;

/// Answers turns from an [`OpsSource`].
#[derive(Debug, Clone)]
pub struct Dialog {
    ops: Arc<dyn OpsSource>,
    clock: Arc<dyn Clock>,
}

impl Dialog {
    /// A dialog answering from `ops`, measuring ages with `clock`.
    #[must_use]
    pub fn new(ops: Arc<dyn OpsSource>, clock: Arc<dyn Clock>) -> Self {
        Self { ops, clock }
    }

    /// The data source.
    #[must_use]
    pub fn ops(&self) -> &Arc<dyn OpsSource> {
        &self.ops
    }

    /// Answers one turn. Never fails: upstream errors become a spoken [`Reply::Unavailable`],
    /// and an answer built from stale data says how old it is.
    pub async fn respond(&self, turn: Turn) -> Answer {
        let (mut answer, stale) = crate::ops::freshness::observe(self.respond_now(turn)).await;
        // Old data matters once it is older than the freshest cache would hold anyway, and
        // only when the answer says something from it.
        let answered = !matches!(
            answer.reply,
            Reply::Unavailable(_) | Reply::TooSlow | Reply::InternalError
        );
        answer.stale = stale.filter(|s| answered && s.age >= Duration::from_secs(30));
        answer
    }

    async fn respond_now(&self, turn: Turn) -> Answer {
        let turn = match self.resume(turn) {
            Ok(turn) => turn,
            Err(answer) => return *answer,
        };
        // A "no" to a question we did not ask (no pending confirmation carried it): it
        // denies what the platform understood, so never answer as if it were a yes.
        if turn.confirmation == Confirmation::Denied {
            return denied_unasked(self, turn);
        }
        // The policy comes before any data is fetched.
        if !turn.grants.intent(turn.intent) {
            return Answer::to(&turn, Reply::Denied, Move::Fail);
        }
        let result = match turn.intent {
            Intent::ServiceHealth => service_health::answer(self, &turn).await,
            Intent::DeploymentStatus => deployment_status::answer(self, &turn).await,
            Intent::ActiveAlarms => active_alarms::answer(self, &turn).await,
            Intent::AlarmDetail => alarm_detail::answer(self, &turn).await,
            Intent::MetricQuery => metric_query::answer(self, &turn).await,
            Intent::FleetSummary => fleet_summary::answer(self, &turn).await,
            Intent::WhatChanged => what_changed::answer(self, &turn).await,
            Intent::More => return Box::pin(self.more(turn)).await,
            _ => Ok(builtins::answer(&turn)),
        };
        result.unwrap_or_else(|error| {
            tracing::warn!(error = %ErrorChain(&error), intent = %turn.intent, "answer degraded: upstream failed");
            Answer::to(&turn, Reply::Unavailable(error.system()), Move::Fail)
        })
    }

    /// "Tell me more": the last question again, in detail.
    async fn more(&self, turn: Turn) -> Answer {
        match turn.context.last.clone() {
            Some(last) => {
                let mut again = turn;
                again.intent = last.intent;
                again.slots = last.slots;
                again.detail = true;
                self.respond_now(again).await
            }
            None => builtins::answer(&turn),
        }
    }

    /// Applies the answer to a question we asked last turn ("which service?", "did you
    /// mean ...?"). Returns the turn to answer, or an answer right away.
    fn resume(&self, mut turn: Turn) -> Result<Turn, Box<Answer>> {
        let Some(pending) = turn.context.pending.take() else {
            return Ok(turn);
        };
        match pending {
            Pending::Confirm {
                intent,
                slots,
                slot,
                value,
            } => {
                let yes = turn.intent == Intent::Yes
                    || (turn.intent == intent && turn.confirmation == Confirmation::Confirmed);
                let no = turn.intent == Intent::No
                    || (turn.intent == intent && turn.confirmation == Confirmation::Denied);
                if yes {
                    turn.intent = intent;
                    turn.slots = slots;
                    turn.slots.insert(slot, value);
                    turn.confirmation = Confirmation::None;
                } else if no {
                    turn.intent = intent;
                    turn.slots = slots;
                    turn.slots.remove(&slot);
                    turn.confirmation = Confirmation::None;
                    let pending = Pending::Fill {
                        intent,
                        slots: turn.slots.clone(),
                        slot,
                        options: Vec::new(),
                    };
                    return Err(Box::new(Answer::ask(
                        &turn,
                        Reply::Ask(slot),
                        Move::ElicitSlot(slot),
                        pending,
                    )));
                }
                Ok(turn)
            }
            Pending::Fill {
                intent,
                slots,
                slot,
                options,
            } => {
                let value = turn.slots.get(&slot).cloned().or_else(|| {
                    // A bare answer ("the email one") arrives as a fallback or as another
                    // intent's guess; the words themselves are the value.
                    (turn.intent == Intent::Fallback || turn.intent == intent)
                        .then(|| turn.transcript.clone())
                        .flatten()
                });
                if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
                    let value = pick_option(&value, &options).unwrap_or(value);
                    let mut merged = slots;
                    for (k, v) in &turn.slots {
                        merged.insert(*k, v.clone());
                    }
                    merged.insert(slot, value);
                    turn.intent = intent;
                    turn.slots = merged;
                }
                Ok(turn)
            }
        }
    }

    /// The service the turn is about: the `service` slot resolved against the catalog
    /// (within the `cluster` slot, if given), else the one last talked about.
    pub(crate) async fn target_service(&self, turn: &Turn) -> Result<Need<ServiceRef>, OpsError> {
        let Some(spoken) = turn.slots.get(&Slot::Service) else {
            if let Some(service) = &turn.context.service {
                if !turn.grants.service(turn.intent, service) {
                    return Ok(Need::Ask(Box::new(Answer::to(
                        turn,
                        Reply::Denied,
                        Move::Fail,
                    ))));
                }
                return Ok(Need::Have(service.clone()));
            }
            return Ok(Need::Ask(Box::new(self.elicit(
                turn,
                Slot::Service,
                Reply::Ask(Slot::Service),
            ))));
        };
        let catalog = self.ops.catalog().await?;
        let cluster = match self.target_cluster(turn, &catalog.clusters) {
            Need::Have(cluster) => cluster,
            Need::Ask(answer) => return Ok(Need::Ask(answer)),
        };
        let candidates: Vec<&ServiceRef> = catalog
            .services
            .iter()
            .filter(|s| cluster.as_ref().is_none_or(|c| &s.cluster == c))
            .filter(|s| turn.grants.service(turn.intent, s))
            .collect();
        let same_name = |name: &str| -> Vec<String> {
            candidates
                .iter()
                .filter(|s| s.name == name)
                .map(|s| s.cluster.clone())
                .collect()
        };
        Ok(
            match resolve::resolve(spoken, &candidates, |s| s.name.as_str()) {
                Match::Found(service) => {
                    let clusters = same_name(&service.name);
                    if clusters.len() > 1 {
                        Need::Ask(Box::new(self.which_cluster(turn, &service.name, clusters)))
                    } else {
                        Need::Have((*service).clone())
                    }
                }
                Match::Likely(service) => {
                    let mut slots = turn.slots.clone();
                    slots.insert(Slot::Cluster, service.cluster.clone());
                    let pending = Pending::Confirm {
                        intent: turn.intent,
                        slots,
                        slot: Slot::Service,
                        value: service.name.clone(),
                    };
                    Need::Ask(Box::new(Answer::ask(
                        turn,
                        Reply::DidYouMean((*service).clone()),
                        Move::ConfirmIntent,
                        pending,
                    )))
                }
                Match::Ambiguous(services) => {
                    if services.iter().all(|s| s.name == services[0].name) {
                        let clusters = same_name(&services[0].name);
                        Need::Ask(Box::new(self.which_cluster(
                            turn,
                            &services[0].name,
                            clusters,
                        )))
                    } else {
                        let names = services.into_iter().map(|s| (*s).clone()).collect();
                        Need::Ask(Box::new(self.elicit(
                            turn,
                            Slot::Service,
                            Reply::WhichService(names),
                        )))
                    }
                }
                // A caller who may not see every service hears the same whether the
                // name does not exist or is not theirs to ask about.
                Match::NoMatch if !turn.grants.everything(turn.intent) => {
                    Need::Ask(Box::new(Answer::to(turn, Reply::Denied, Move::Fail)))
                }
                Match::NoMatch => Need::Ask(Box::new(self.elicit(
                    turn,
                    Slot::Service,
                    Reply::UnknownService(spoken.clone()),
                ))),
            },
        )
    }

    /// The `cluster` slot resolved against the catalog; `None` when not given.
    pub(crate) fn target_cluster(&self, turn: &Turn, clusters: &[String]) -> Need<Option<String>> {
        let Some(spoken) = turn.slots.get(&Slot::Cluster) else {
            return Need::Have(None);
        };
        let visible: Vec<String> = clusters
            .iter()
            .filter(|c| turn.grants.cluster(turn.intent, c))
            .cloned()
            .collect();
        match resolve::resolve(spoken, &visible, String::as_str) {
            Match::Found(cluster) | Match::Likely(cluster) => Need::Have(Some(cluster.clone())),
            _ if !turn.grants.everything(turn.intent) => {
                Need::Ask(Box::new(Answer::to(turn, Reply::Denied, Move::Fail)))
            }
            _ => {
                let mut turn = turn.clone();
                turn.slots.remove(&Slot::Cluster);
                Need::Ask(Box::new(self.elicit(
                    &turn,
                    Slot::Cluster,
                    Reply::UnknownCluster(spoken.clone()),
                )))
            }
        }
    }

    fn which_cluster(&self, turn: &Turn, service: &str, clusters: Vec<String>) -> Answer {
        let mut turn = turn.clone();
        turn.slots.insert(Slot::Service, service.to_owned());
        self.elicit(
            &turn,
            Slot::Cluster,
            Reply::WhichCluster {
                service: service.to_owned(),
                clusters,
            },
        )
    }

    /// Asks for `slot`, remembering to answer `turn.intent` with the value (and the
    /// options offered, if the reply offers some).
    pub(crate) fn elicit(&self, turn: &Turn, slot: Slot, reply: Reply) -> Answer {
        let mut slots = turn.slots.clone();
        slots.remove(&slot);
        let options = match &reply {
            Reply::WhichService(services) => services.iter().map(|s| s.name.clone()).collect(),
            Reply::WhichCluster { clusters, .. } => clusters.clone(),
            Reply::WhichAlarm(alarms) => alarms.clone(),
            _ => Vec::new(),
        };
        let pending = Pending::Fill {
            intent: turn.intent,
            slots: slots.clone(),
            slot,
            options,
        };
        let mut answer = Answer::ask(turn, reply, Move::ElicitSlot(slot), pending);
        answer.slots = slots;
        answer
    }

    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.clock.now()
    }

    pub(crate) fn age(&self, then: std::time::SystemTime) -> Duration {
        crate::clock::age(self.clock.now(), then)
    }
}

/// A denial that no pending confirmation of ours explains: the words understood were
/// wrong, so the service is asked for afresh (the other slots are dropped with it); with no
/// service to deny, the question itself is asked again.
fn denied_unasked(dialog: &Dialog, mut turn: Turn) -> Answer {
    turn.confirmation = Confirmation::None;
    if turn.slots.contains_key(&Slot::Service) || turn.context.service.is_some() {
        turn.slots.clear();
        return dialog.elicit(&turn, Slot::Service, Reply::Ask(Slot::Service));
    }
    Answer::to(&turn, Reply::Fallback, Move::ElicitIntent)
}

/// The one offered option the user's reply points at ("the sms one" of email-sender and
/// sms-sender), if exactly one matches best.
fn pick_option(reply: &str, options: &[String]) -> Option<String> {
    let mut scored: Vec<(f64, &String)> = options
        .iter()
        .map(|o| (resolve::score(reply, o), o))
        .filter(|(s, _)| *s >= 0.55)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    match scored.as_slice() {
        [(_, only)] => Some((*only).clone()),
        [(best, first), (second, _), ..] if best - second > 0.05 => Some((*first).clone()),
        _ => None,
    }
}

/// The `window` slot: an ISO 8601 duration as Lex and Alexa send it (`PT1H`, `P1D`) or the
/// words a user types ("last 30 minutes", "past hour", "today"). Capped at 14 days.
#[must_use]
pub fn parse_window(value: &str) -> Option<Duration> {
    let v = value.trim().to_ascii_lowercase();
    let secs = parse_iso_duration(&v).or_else(|| parse_spoken_duration(&v))?;
    (secs > 0).then(|| Duration::from_secs(secs.min(14 * 24 * 3600)))
}

fn parse_iso_duration(v: &str) -> Option<u64> {
    let rest = v.strip_prefix('p')?;
    let (date, time) = rest.split_once('t').unwrap_or((rest, ""));
    let mut total = 0u64;
    for (part, units) in [
        (date, &[('w', 604_800u64), ('d', 86_400)][..]),
        (time, &[('h', 3600), ('m', 60), ('s', 1)][..]),
    ] {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let (_, mult) = units.iter().find(|(u, _)| *u == c)?;
                total += num.parse::<u64>().ok()? * mult;
                num.clear();
            }
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(total)
}

fn parse_spoken_duration(v: &str) -> Option<u64> {
    const NUMBERS: &[(&str, u64)] = &[
        ("a", 1),
        ("an", 1),
        ("one", 1),
        ("two", 2),
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("six", 6),
        ("seven", 7),
        ("eight", 8),
        ("nine", 9),
        ("ten", 10),
        ("twelve", 12),
        ("fifteen", 15),
        ("twenty", 20),
        ("thirty", 30),
        ("forty five", 45),
        ("forty", 40),
        ("sixty", 60),
        ("ninety", 90),
        ("couple of", 2),
        ("few", 3),
    ];
    if v.contains("today") || v.contains("last day") || v.contains("past day") {
        return Some(86_400);
    }
    if v.contains("half an hour") || v.contains("half hour") {
        return Some(1800);
    }
    let unit = [
        ("second", 1u64),
        ("minute", 60),
        ("min", 60),
        ("hour", 3600),
        ("day", 86_400),
        ("week", 604_800),
    ]
    .into_iter()
    .find(|(u, _)| v.contains(u))?;
    let before = &v[..v.find(unit.0)?];
    let words = before
        .trim()
        .trim_start_matches("in ")
        .trim_start_matches("the ")
        .trim_start_matches("over ")
        .trim_start_matches("the ")
        .trim_start_matches("last")
        .trim_start_matches("past")
        .trim();
    let count = if words.is_empty() {
        1
    } else if let Ok(n) = words.split_whitespace().last().unwrap_or("").parse::<u64>() {
        n
    } else {
        NUMBERS
            .iter()
            .find(|(w, _)| words.ends_with(w))
            .map(|(_, n)| *n)?
    };
    Some(count * unit.1)
}

/// The `metric` slot, read leniently.
#[must_use]
pub fn parse_metric(value: &str) -> Option<MetricKind> {
    MetricKind::parse(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_from_iso_and_from_words() {
        let h = Some(Duration::from_secs(3600));
        assert_eq!(parse_window("PT1H"), h);
        assert_eq!(parse_window("last hour"), h);
        assert_eq!(parse_window("the past hour"), h);
        assert_eq!(
            parse_window("in the last 30 minutes"),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            parse_window("last two hours"),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(parse_window("P1D"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_window("PT1H30M"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_window("today"), Some(Duration::from_secs(86_400)));
        assert_eq!(
            parse_window("P400D"),
            Some(Duration::from_secs(14 * 86_400))
        );
        assert_eq!(parse_window("banana"), None);
        assert_eq!(parse_window("PT"), None);
    }
}
