//! The conversation, independent of any channel: a [`Turn`] goes in, an [`Answer`] comes out.
//!
//! An `Answer` is data (facts plus a dialog [`Move`]), not text; `speech` turns it into
//! words. There is one file per intent, each with the same shape: resolve what the question
//! is about (asking back when it is missing or unclear), fetch the facts from
//! [`OpsSource`], and return a report. Upstream failures become spoken answers, never errors.
//!
//! This file holds the turn, the answer and the routing (with resuming a question we asked
//! back); `target` resolves what a turn is about, `slots` reads slot values, `context` is
//! the session memory, and `can_fulfill` answers "could you answer this?".

pub(crate) mod acting;
mod builtins;
pub mod can_fulfill;
pub mod context;
pub mod each;
pub mod picture;
mod place;
mod render;
pub mod resolve;
pub mod scope;
pub mod slots;
mod target;

/// One module per question intent, from the registry (`vocab::questions!`); each has
/// `answer()` and its `Report`, and the report's `sentences()`, `links()` and `card()`.
macro_rules! handlers {
    ($($name:ident => $module:ident,)*) => {
        $(pub mod $module;)*

        /// The facts of a question's answer: one variant per intent in the registry.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Report {
            $($name($module::Report),)*
        }

        $(
            impl From<$module::Report> for Reply {
                fn from(report: $module::Report) -> Self {
                    Reply::Report(Report::$name(report))
                }
            }
        )*

        impl Report {
            /// The sentences, verdict first.
            pub(crate) fn sentences(&self, say: &crate::speech::render::Say<'_>, detail: bool) -> Vec<String> {
                match self {
                    $(Report::$name(r) => $module::sentences(say, r, detail),)*
                }
            }

            /// What chat adds below the sentences: lists and console links.
            pub(crate) fn links(&self, say: &crate::speech::render::Say<'_>) -> Vec<String> {
                match self {
                    $(Report::$name(r) => $module::links(say, r),)*
                }
            }

            /// The card's title kind and its follow-up buttons.
            pub(crate) fn card(
                &self,
                say: &crate::speech::render::Say<'_>,
            ) -> (&'static str, Vec<crate::speech::render::Button>) {
                match self {
                    $(Report::$name(r) => $module::card(say, r),)*
                }
            }
        }

        /// The question's handler, or `None` for a built-in.
        async fn handle(dialog: &Dialog, turn: &Turn) -> Option<Result<Answer, OpsError>> {
            // Each handler's future lives on the heap: the largest of them would otherwise
            // set the size of every future wrapped around this one, copied as each is built.
            Some(match turn.intent {
                $(Intent::$name => Box::pin($module::answer(dialog, turn)).await,)*
                _ => return None,
            })
        }
    };
}
crate::vocab::questions!(handlers);

use std::sync::Arc;
use std::time::Duration;

pub use crate::error::ErrorChain;
pub use crate::vocab::{Intent, Mode, Slot, Slots};
pub use context::{Pending, SessionContext};
pub use slots::{parse_count, parse_duration, parse_metric, parse_silence_length, parse_window};

use crate::clock::Clock;
use crate::ops::{OpsError, OpsSource, ServiceRef};

/// Why one part of an answer is left out: the system it comes from could not be reached
/// (or refused), or was too slow. The words differ, and must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Unreachable,
    Slow,
}

impl From<&OpsError> for Missing {
    fn from(error: &OpsError) -> Self {
        if error.is_slow() {
            Missing::Slow
        } else {
            Missing::Unreachable
        }
    }
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
    /// The channel's session (`lex:<id>`, `alexa:<id>`, `ask:<scope>`, `slack:<…>`): an
    /// action's yes counts only in the session its read-back was given in.
    pub session: Option<String>,
    /// The Slack message this turn came from, when it came from Slack (an action's
    /// outcome is told in its thread).
    pub origin: Option<crate::act::record::Place>,
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
            session: None,
            origin: None,
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
    /// A question answered.
    Report(Report),
    /// A question about a name in two or three places, answered for each.
    InEach(Vec<each::Placed>),
    /// Ask for a missing slot.
    Ask(Slot),
    WhichService(Vec<ServiceRef>),
    WhichCluster {
        service: String,
        clusters: Vec<String>,
    },
    WhichAlarm(Vec<String>),
    /// The service (or, `alarm`, the alarm) is in several accounts: which one?
    WhichAccount {
        service: String,
        accounts: Vec<String>,
        alarm: bool,
    },
    /// The service (or, `alarm`, the alarm) is in several regions of its account: which
    /// one?
    WhichRegion {
        service: String,
        regions: Vec<String>,
        alarm: bool,
    },
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
    /// An upstream system could not answer (it was unreachable, or too slow), and
    /// nothing older could stand in.
    Unavailable(&'static str, Missing),
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
    /// The accounts (or regions of one) that did not answer in time, so the answer was
    /// made without them and says so. Empty without accounts.
    pub left: Vec<crate::ops::partial::Left>,
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
            left: Vec::new(),
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
    /// The event log the notifier writes ("what did I miss?"), when there is a store.
    log: Option<Arc<dyn crate::store::Store>>,
    /// Where actions are asked for, when acting is set up.
    desk: Option<Arc<crate::act::desk::Desk>>,
    /// Where services' logs are read (LogErrors), when there is a log source.
    logs: Option<Arc<dyn crate::ops::logs::LogSource>>,
}

impl Dialog {
    /// A dialog answering from `ops`, measuring ages with `clock`.
    #[must_use]
    pub fn new(ops: Arc<dyn OpsSource>, clock: Arc<dyn Clock>) -> Self {
        Self {
            ops,
            clock,
            log: None,
            desk: None,
            logs: None,
        }
    }

    /// The same dialog, reading services' logs from `logs` (LogErrors).
    #[must_use]
    pub fn with_logs(mut self, logs: Arc<dyn crate::ops::logs::LogSource>) -> Self {
        self.logs = Some(logs);
        self
    }

    /// The log source, if there is one.
    #[must_use]
    pub fn logs(&self) -> Option<&Arc<dyn crate::ops::logs::LogSource>> {
        self.logs.as_ref()
    }

    /// The same dialog, taking actions to `desk`.
    #[must_use]
    pub fn with_desk(mut self, desk: Arc<crate::act::desk::Desk>) -> Self {
        self.desk = Some(desk);
        self
    }

    /// The acting desk, if acting is set up.
    #[must_use]
    pub fn desk(&self) -> Option<&Arc<crate::act::desk::Desk>> {
        self.desk.as_ref()
    }

    /// The same dialog, reading the event log from `store` too (for WhatHappened).
    #[must_use]
    pub fn with_log(mut self, store: Arc<dyn crate::store::Store>) -> Self {
        self.log = Some(store);
        self
    }

    /// The event log, if there is one.
    #[must_use]
    pub fn log(&self) -> Option<&Arc<dyn crate::store::Store>> {
        self.log.as_ref()
    }

    /// The data source.
    #[must_use]
    pub fn ops(&self) -> &Arc<dyn OpsSource> {
        &self.ops
    }

    /// Answers one turn. Never fails: upstream errors become a spoken [`Reply::Unavailable`],
    /// and an answer built from stale data says how old it is.
    pub async fn respond(&self, turn: Turn) -> Answer {
        // On the heap: the answer's future is large, and each scope around it would
        // otherwise move a copy of it across the stack.
        let ((mut answer, stale), left) = crate::ops::partial::observe(
            crate::ops::freshness::observe(Box::pin(self.respond_now(turn))),
        )
        .await;
        // With accounts: each account an answer had to leave out (or a region of it), by
        // name, in `/metrics` (only configured accounts are ever left out, so the label is
        // bounded by the accounts file; without accounts the series never appears).
        for l in &left {
            metrics::counter!("opsvoice_answers_left_out_total", "account" => l.account.clone())
                .increment(1);
        }
        // Old data matters once it is older than the freshest cache would hold anyway, and
        // only when the answer says something from it.
        let answered = !matches!(
            answer.reply,
            Reply::Unavailable(..) | Reply::TooSlow | Reply::InternalError
        );
        answer.stale = stale.filter(|s| answered && s.age >= Duration::from_secs(30));
        if answered {
            answer.left = left;
        }
        answer
    }

    async fn respond_now(&self, mut turn: Turn) -> Answer {
        // A read-back waits for its answer: an explicit yes goes on, a no cancels, and
        // anything else is a no too (then answered as the new question it is).
        if let Some(Pending::Action { id, intent }) = turn.context.pending.clone() {
            let same = turn.intent == intent;
            let yes = turn.intent == Intent::Yes
                || (same && turn.confirmation == Confirmation::Confirmed);
            let no = matches!(turn.intent, Intent::No | Intent::Cancel | Intent::Stop)
                || (same && turn.confirmation == Confirmation::Denied);
            if yes || no {
                return Box::pin(acting::decide(self, turn, &id, intent, yes)).await;
            }
            turn.context.pending = None;
            acting::drop_pending(self, &turn, &id).await;
        }
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
        if turn.intent == Intent::More {
            return Box::pin(self.more(turn)).await;
        }
        let result = match handle(self, &turn).await {
            Some(result) => result,
            None => Ok(builtins::answer(&turn)),
        };
        result.unwrap_or_else(|error| {
            tracing::warn!(error = %ErrorChain(&error), intent = %turn.intent, "answer degraded: upstream failed");
            let reply = Reply::Unavailable(error.system(), Missing::from(&error));
            Answer::to(&turn, reply, Move::Fail)
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
            // Taken (and answered) before the turn is resumed.
            Pending::Action { .. } => Ok(turn),
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
                    // intent's guess; the words themselves are the value. So are words
                    // that name one of the options we offered, whatever intent the matcher
                    // took them for ("checkout-cpu-high" reads like a CPU question).
                    let offered = turn
                        .transcript
                        .as_deref()
                        .is_some_and(|said| pick_option(said, &options).is_some());
                    (turn.intent == Intent::Fallback || turn.intent == intent || offered)
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
