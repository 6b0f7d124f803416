//! The desk every action passes: request (the guard rails, a fresh read of the target, the
//! read-back), the requester's yes or no, a second person's approval, the one write, and
//! afterwards the follow-up, the expiries and the silences that end on time ([`Desk::tick`]).
//!
//! Channels never call AWS for an action: they call the desk, which refuses before any
//! write when a guard rail says no, and claims the action in the store before the write,
//! so whatever is re-delivered or double clicked, one action makes at most one write.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::effect::{AlarmNow, EffectError, Effector, ServiceNow};
use super::ledger::{Claim, Ledger, LedgerError};
use super::record::{ActionRecord, Basis, Change, Outcome, Person, Place, State, StepError};
use super::{Gate, Refusal, Subject, Target};
use crate::auth::Principal;
use crate::auth::policy::Grants;
use crate::clock::Clock;
use crate::ops::{OpsError, RolloutState};
use crate::store::record::{Record, decode, encode};
use crate::store::{Key, Prefix, Store, epoch};
use crate::vocab::Verb;

/// How long a claim holds an action while its one write is made.
pub const LEASE: Duration = Duration::from_secs(60);
/// How long an executed action is followed before it is reported as still going.
pub const FOLLOW_FOR: Duration = Duration::from_secs(10 * 60);
/// The window of the per-service rate limit.
pub const RATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How long a silence is when no duration was said.
pub const DEFAULT_SILENCE: Duration = Duration::from_secs(60 * 60);

/// Where a channel tells people about actions in Slack: approval cards, and the outcome
/// in the requester's thread. The Slack app is the real one.
#[async_trait::async_trait]
pub trait Announcer: Send + Sync + std::fmt::Debug {
    /// Posts the approval card for `record` in `channel`: who asks, exactly what will
    /// change, Approve and Deny.
    ///
    /// # Errors
    /// Slack could not be reached or refused.
    async fn ask_approval(&self, channel: &str, record: &ActionRecord) -> Result<Place, String>;

    /// Updates a card in place to show where `record` stands now.
    async fn update_card(&self, card: &Place, record: &ActionRecord);

    /// Tells the requester's Slack thread where `record` stands now.
    async fn tell(&self, origin: &Place, record: &ActionRecord);
}

/// A person asking, with what they may do and where they asked.
#[derive(Debug, Clone)]
pub struct Asker<'a> {
    pub principal: &'a Principal,
    pub grants: &'a Grants,
    /// The channel session (`lex:<id>`, `alexa:<id>`, `ask:<scope>`, `slack:<channel>`).
    pub session: &'a str,
    /// The Slack message asked in, when it was Slack.
    pub origin: Option<Place>,
}

impl Asker<'_> {
    fn person(&self) -> Person {
        person(self.principal)
    }
}

fn person(principal: &Principal) -> Person {
    Person {
        sub: principal.sub.clone(),
        username: principal.username.clone(),
    }
}

/// What was asked for, beyond the verb and target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params {
    /// ScaleService's `count`.
    pub count: Option<u32>,
    /// SilenceAlarm's `duration`.
    pub duration: Option<Duration>,
    /// "unsilence": end a silence early.
    pub end: bool,
}

/// The result of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Requested {
    /// Read back, waiting for a yes.
    ReadBack(Box<ActionRecord>),
    /// Refused before anything changed.
    Refused(Refusal),
    /// The target does not exist (said like any unknown name).
    Missing,
}

/// Where an action stands after an answer (a yes, a no, an approval).
#[derive(Debug, Clone, PartialEq)]
pub enum Answered {
    /// Nothing of this person's, in this session, waits for an answer: nothing done.
    NothingToConfirm,
    /// The requester said no.
    Cancelled,
    /// Too late: the read-back or the card expired.
    Expired,
    /// A guard rail said no on the re-check.
    Refused(Refusal),
    /// Sent for approval, to this channel.
    AwaitingApproval { channel: String },
    /// Approval needed, but the card could not be posted: nothing done.
    ApprovalUnavailable,
    /// The approver said no.
    Rejected,
    /// The write was made; the result will follow (service changes).
    Started(Box<ActionRecord>),
    /// The write was made and that is the whole of it (silences).
    Done(Box<ActionRecord>),
    /// AWS refused the write: nothing changed.
    Failed(Box<ActionRecord>),
    /// The write may or may not have been made; never retried automatically.
    Unknown(Box<ActionRecord>),
    /// Another request holds the action (a double click, a re-delivery): nothing done.
    InProgress,
    /// The approver may not approve this.
    NotAllowed,
    /// The requester cannot approve their own action.
    SelfApproval,
    /// The store could not be reached: nothing done.
    Unavailable,
}

/// A running silence: when it ends, and whether to enable the actions again then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub action: String,
    pub target: Target,
    pub until: i64,
    pub actions_were_enabled: bool,
    pub by: Person,
}

impl Record for Silence {
    const KIND: &'static str = "silence";
}

/// A request refused before any read-back: the durable half of its `action_refused` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRequest {
    pub id: String,
    /// When (epoch seconds).
    pub at: i64,
    pub verb: Verb,
    pub target: Target,
    pub by: Person,
    pub session: String,
    /// The refusal's code (`kill_switch`, `no_grant`, …), as the audit event says it.
    pub reason: String,
}

impl Record for RefusedRequest {
    const KIND: &'static str = "refused action";
}

/// The executed actions on one service in the rate window (action id → epoch seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Recent {
    done: std::collections::BTreeMap<String, i64>,
}

impl Record for Recent {
    const KIND: &'static str = "action rate";
}

/// The task definitions one service was seen running, oldest first: the deployment
/// history opsvoice keeps, a rollback's evidence when ECS no longer lists the older one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ran {
    pub seen: Vec<Seen>,
}

/// One task definition a service ran, from when it was first seen to when it was last
/// seen (epoch seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub task_definition: String,
    pub first: i64,
    pub last: i64,
}

impl Record for Ran {
    const KIND: &'static str = "deployment history";
}

/// How many task definitions a service's history keeps.
const RAN_KEEP: usize = 10;
/// How long a service's history is kept after it was last seen.
const RAN_RETENTION: Duration = Duration::from_secs(90 * 86_400);

impl Ran {
    /// The task definition seen before `current`, and until when, as evidence that it ran.
    #[must_use]
    pub fn previous(&self, current: &str) -> Option<super::effect::Previous> {
        let at = self
            .seen
            .iter()
            .rposition(|s| s.task_definition == current)?;
        let before = self.seen[..at]
            .iter()
            .rev()
            .find(|s| s.task_definition != current)?;
        Some(super::effect::Previous {
            task_definition: before.task_definition.clone(),
            ran_until: Some(before.last),
            evidence: super::effect::Evidence::History,
        })
    }

    /// Notes `task_definition` running at `now`; whether anything changed.
    fn note(&mut self, task_definition: &str, now: i64) -> bool {
        if let Some(last) = self.seen.last_mut()
            && last.task_definition == task_definition
        {
            // Only a coarse "still running" mark, so a steady service is not rewritten
            // on every read.
            if now - last.last < 60 {
                return false;
            }
            last.last = now;
            return true;
        }
        self.seen.push(Seen {
            task_definition: task_definition.to_owned(),
            first: now,
            last: now,
        });
        if self.seen.len() > RAN_KEEP {
            self.seen.remove(0);
        }
        true
    }
}

/// What a tick did (for logs and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ticked {
    pub expired: usize,
    pub finished: usize,
    pub silences_ended: usize,
}

/// The acting desk. Cheap to share.
#[derive(Debug, Clone)]
pub struct Desk {
    ledger: Ledger,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    gate: Gate,
    effector: Arc<dyn Effector>,
    announcer: Option<Arc<dyn Announcer>>,
    /// Where questions are answered from (see [`Desk::answering_from`]).
    answers_from: Option<Arc<dyn crate::ops::OpsSource>>,
}

fn place_of(target: &Target) -> String {
    match (&target.account, &target.region) {
        (None, None) => "-".to_owned(),
        (a, r) => format!(
            "{}@{}",
            a.as_deref().unwrap_or("-"),
            r.as_deref().unwrap_or("-")
        ),
    }
}

fn silence_key(target: &Target) -> Option<Key> {
    match &target.subject {
        Subject::Alarm { alarm, .. } => Some(Key::silence(&place_of(target), alarm)),
        Subject::Service { .. } => None,
    }
}

impl Desk {
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        gate: Gate,
        effector: Arc<dyn Effector>,
        announcer: Option<Arc<dyn Announcer>>,
    ) -> Self {
        Self {
            ledger: Ledger::new(store.clone(), clock.clone()),
            store,
            clock,
            gate,
            effector,
            announcer,
            answers_from: None,
        }
    }

    /// The source questions are answered from: told to forget a target each time an
    /// action changes it, so the next answer reads it fresh rather than from the cache.
    #[must_use]
    pub fn answering_from(mut self, ops: Arc<dyn crate::ops::OpsSource>) -> Self {
        self.answers_from = Some(ops);
        self
    }

    /// The action records.
    #[must_use]
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Notes which task definition `service` runs now in its history, and returns the
    /// history. A store that fails costs only the evidence, never the answer.
    pub async fn observe(&self, target: &Target, service: &ServiceNow) -> Ran {
        let Some(service_ref) = target.service_ref() else {
            return Ran::default();
        };
        let key = Key::ran(&place_of(target), &service_ref.to_string());
        let now = epoch(self.clock.now());
        for _ in 0..3 {
            let Ok(raw) = self.store.get(&key).await else {
                return Ran::default();
            };
            let mut ran: Ran = raw
                .as_deref()
                .and_then(|r| decode(r).ok())
                .unwrap_or_default();
            // Only a primary that finished rolling out has run.
            if service.task_definition.is_empty() || service.rolling() {
                return ran;
            }
            if !ran.note(&service.task_definition, now) {
                return ran;
            }
            let keep = self.clock.now() + RAN_RETENTION;
            let stored = match &raw {
                Some(raw) => self.store.replace(&key, raw, &encode(&ran), keep).await,
                None => self.store.create(&key, &encode(&ran), keep).await,
            };
            match stored {
                Ok(true) => return ran,
                Ok(false) => {}
                Err(_) => return ran,
            }
        }
        Ran::default()
    }

    /// The running silence of an alarm, if any.
    pub async fn silence_of(&self, target: &Target) -> Option<Silence> {
        let key = silence_key(target)?;
        let raw = self.store.get(&key).await.ok()??;
        decode(&raw).ok()
    }

    /// A request refused before its read-back: an audit event and a durable record (who,
    /// what, where, why), kept as long as an action's record. A store that fails loses the
    /// record, never the refusal: nothing is done either way.
    async fn refused(&self, reason: Refusal, verb: Verb, target: &Target, asker: &Asker<'_>) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let now = self.clock.now();
        let record = RefusedRequest {
            id: id.clone(),
            at: crate::store::epoch(now),
            verb,
            target: target.clone(),
            by: asker.person(),
            session: asker.session.to_owned(),
            reason: reason.code().to_owned(),
        };
        if let Err(error) = self
            .store
            .create(
                &crate::store::Key::refused_action(&id),
                &encode(&record),
                now + super::ledger::RETENTION,
            )
            .await
        {
            tracing::warn!(error = %crate::error::ErrorChain(&error), "could not record a refused request");
        }
        tracing::info!(
            target: "opsvoice::audit",
            event = super::record::event::REFUSED,
            action = %id,
            sub = %crate::telemetry::escape_controls(&asker.principal.sub),
            username = %crate::telemetry::escape_controls(&asker.principal.username),
            verb = %verb,
            target = %crate::telemetry::escape_controls(&target.to_string()),
            reason = reason.code(),
            "action_refused"
        );
        metrics::counter!("opsvoice_actions_total", "verb" => verb.policy_name(), "outcome" => reason.code()).increment(1);
    }

    /// A new request: the guard rails, a fresh read of the target, and the read-back,
    /// stored as a pending action. No write to AWS, whatever the answer.
    ///
    /// # Errors
    /// The target could not be read (said as such: nothing is done).
    pub async fn request(
        &self,
        asker: &Asker<'_>,
        verb: Verb,
        target: Target,
        params: Params,
    ) -> Result<Requested, OpsError> {
        if let Err(reason) = self.gate.decide(asker.grants, verb, &target) {
            self.refused(reason, verb, &target, asker).await;
            return Ok(Requested::Refused(reason));
        }
        if let Err(reason) = self.effector.acts_in(&target) {
            self.refused(reason, verb, &target, asker).await;
            return Ok(Requested::Refused(reason));
        }
        let settings = asker
            .grants
            .actions()
            .cloned()
            .unwrap_or_else(crate::auth::policy::ActionSettings::off);
        let now = self.clock.now();
        let (change, basis) = match verb {
            Verb::Silence => {
                let Some(alarm) = self.effector.alarm(&target).await? else {
                    return Ok(Requested::Missing);
                };
                match self
                    .silence_change(&target, &alarm, params, &settings, now)
                    .await
                {
                    Ok(c) => c,
                    Err(reason) => {
                        self.refused(reason, verb, &target, asker).await;
                        return Ok(Requested::Refused(reason));
                    }
                }
            }
            _ => {
                let Some(mut service) = self.effector.service(&target).await? else {
                    return Ok(Requested::Missing);
                };
                let history = self.observe(&target, &service).await;
                if service.previous.is_none() {
                    service.previous = history.previous(&service.task_definition);
                }
                match self
                    .service_change(verb, &target, &service, params, &settings)
                    .await
                {
                    Ok(c) => c,
                    Err(reason) => {
                        self.refused(reason, verb, &target, asker).await;
                        return Ok(Requested::Refused(reason));
                    }
                }
            }
        };
        let needs_approval = Gate::needs_approval(asker.grants, &target);
        // The read-back and the card say the account; the region too when the account is
        // read in more than one.
        let region_named = target
            .account
            .as_deref()
            .is_some_and(|a| self.effector.regions_of(a) > 1);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let record = match ActionRecord::request(
            id,
            change,
            target,
            asker.person(),
            asker.session,
            needs_approval,
            settings.approval_ttl,
            now,
        ) {
            Ok(r) => r
                .with_basis(basis)
                .with_origin(asker.origin.clone())
                .with_region_named(region_named),
            Err(_) => return Ok(Requested::Refused(Refusal::Mismatch)),
        };
        if let Err(error) = self.ledger.open(&record).await {
            tracing::warn!(error = %crate::error::ErrorChain(&error), "could not store an action; nothing done");
            return Err(OpsError::Unavailable {
                api: "the action store",
                source: Arc::new(error),
            });
        }
        self.mark_open(record.id()).await;
        Ok(Requested::ReadBack(Box::new(record)))
    }

    async fn service_change(
        &self,
        verb: Verb,
        target: &Target,
        now_: &ServiceNow,
        params: Params,
        settings: &crate::auth::policy::ActionSettings,
    ) -> Result<(Change, Basis), Refusal> {
        let _ = target;
        if !now_.controller.eq_ignore_ascii_case("ECS") {
            return Err(Refusal::NotEcsController);
        }
        let basis = service_basis(now_);
        let change = match verb {
            Verb::Restart => Change::Restart {
                running: now_.running,
            },
            Verb::Rollback => {
                let Some(previous) = &now_.previous else {
                    return Err(Refusal::NoEvidence);
                };
                if previous.task_definition == now_.task_definition {
                    return Err(Refusal::NoEvidence);
                }
                Change::Rollback {
                    from: now_.task_definition.clone(),
                    to: previous.task_definition.clone(),
                    ran_until: previous.ran_until,
                }
            }
            Verb::Scale => {
                let Some(to) = params.count else {
                    return Err(Refusal::OutOfBounds);
                };
                if to < 1 || to > settings.scale_max {
                    return Err(Refusal::OutOfBounds);
                }
                if to == now_.desired {
                    return Err(Refusal::NoChange);
                }
                Change::Scale {
                    from: now_.desired,
                    to,
                }
            }
            Verb::Silence => return Err(Refusal::Mismatch),
        };
        Ok((change, basis))
    }

    async fn silence_change(
        &self,
        target: &Target,
        alarm: &AlarmNow,
        params: Params,
        settings: &crate::auth::policy::ActionSettings,
        now: SystemTime,
    ) -> Result<(Change, Basis), Refusal> {
        let basis = Basis {
            actions_enabled: Some(alarm.actions_enabled),
            ..Basis::default()
        };
        let running = self.silence_of(target).await;
        if params.end {
            if running.is_none() && alarm.actions_enabled {
                return Err(Refusal::NoChange);
            }
            if running.is_none() {
                // Actions off, but not by a silence of ours: turning them on is not
                // ending a silence, and would change what someone else decided.
                return Err(Refusal::NoChange);
            }
            return Ok((Change::Unsilence, basis));
        }
        if !alarm.notification_only() {
            return Err(Refusal::NotNotificationOnly);
        }
        let length = params
            .duration
            .unwrap_or(DEFAULT_SILENCE.min(settings.silence_max));
        if length.is_zero() || length > settings.silence_max {
            return Err(Refusal::OutOfBounds);
        }
        // A silence over a running one keeps what the first one found.
        let actions_were_enabled =
            running.map_or(alarm.actions_enabled, |s| s.actions_were_enabled);
        let until = epoch(now).saturating_add(i64::try_from(length.as_secs()).unwrap_or(i64::MAX));
        Ok((
            Change::Silence {
                until,
                actions_were_enabled,
            },
            basis,
        ))
    }

    async fn mark_open(&self, id: &str) {
        let keep = self.clock.now() + super::ledger::RETENTION;
        if let Err(error) = self.store.put(&Key::open_action(id), id, keep).await {
            tracing::warn!(error = %crate::error::ErrorChain(&error), "could not mark an action open; the tick may miss it");
        }
    }

    async fn settle(&self, record: &ActionRecord) {
        if record.state().is_final() {
            let _ = self.store.delete(&Key::open_action(record.id())).await;
        }
    }

    /// Re-reads the target: `Ok` when it is as the read-back said.
    async fn recheck(&self, record: &ActionRecord) -> Result<(), Refusal> {
        if self.gate.kill_switch() {
            return Err(Refusal::KillSwitch);
        }
        let basis = record.basis();
        let now = match &record.target().subject {
            Subject::Alarm { .. } => match self.effector.alarm(record.target()).await {
                Ok(Some(alarm)) => Basis {
                    actions_enabled: Some(alarm.actions_enabled),
                    ..Basis::default()
                },
                _ => return Err(Refusal::TargetChanged),
            },
            Subject::Service { .. } => match self.effector.service(record.target()).await {
                Ok(Some(service)) => service_basis(&service),
                _ => return Err(Refusal::TargetChanged),
            },
        };
        if &now == basis {
            Ok(())
        } else {
            Err(Refusal::TargetChanged)
        }
    }

    /// The requester's answer to their read-back: `yes` only when they said yes, in the
    /// session it was given in. Anything else is a no.
    pub async fn answer(&self, id: &str, asker: &Asker<'_>, yes: bool) -> Answered {
        let sub = asker.principal.sub.clone();
        let session = asker.session.to_owned();
        let stepped = if yes {
            self.ledger
                .step(id, |r, now| r.confirm(&sub, &session, now))
                .await
        } else {
            self.ledger
                .step(id, |r, now| r.deny(&sub, &session, now))
                .await
        };
        let record = match stepped {
            Ok(record) => record,
            Err(LedgerError::Step(StepError::Expired)) => {
                if let Ok(r) = self.ledger.step(id, |r, now| r.expire(now)).await {
                    self.settle(&r).await;
                }
                return Answered::Expired;
            }
            Err(LedgerError::Store(_)) => return Answered::Unavailable,
            Err(error) => {
                tracing::info!(action = %crate::telemetry::escape_controls(id), error = %error, "an answer with no read-back of its own; nothing done");
                return Answered::NothingToConfirm;
            }
        };
        if !yes {
            self.settle(&record).await;
            return Answered::Cancelled;
        }
        // The grants may have changed since the read-back (or the switch been thrown).
        if let Err(reason) = self
            .gate
            .decide(asker.grants, record.verb(), record.target())
            .and(self.recheck(&record).await)
        {
            return self.refuse(&record, reason).await;
        }
        if record.needs_approval() {
            return Box::pin(self.send_for_approval(record, asker.grants)).await;
        }
        Box::pin(self.execute(record, asker.grants)).await
    }

    async fn refuse(&self, record: &ActionRecord, reason: Refusal) -> Answered {
        metrics::counter!("opsvoice_actions_total", "verb" => record.verb().policy_name(), "outcome" => reason.code()).increment(1);
        if let Some(r) = self.record_refusal(record, reason).await {
            self.report(&r).await;
        }
        Answered::Refused(reason)
    }

    /// Stores `record` as refused for `reason` (an audit event), and closes it.
    async fn record_refusal(&self, record: &ActionRecord, reason: Refusal) -> Option<ActionRecord> {
        match self
            .ledger
            .step(record.id(), |r, now| r.refuse(reason, now))
            .await
        {
            Ok(r) => {
                self.settle(&r).await;
                Some(r)
            }
            Err(error) => {
                tracing::warn!(error = %error, "could not record a refusal");
                None
            }
        }
    }

    async fn send_for_approval(&self, record: ActionRecord, grants: &Grants) -> Answered {
        let channel = grants.actions().and_then(|a| a.channel.clone());
        let (Some(channel), Some(announcer)) = (channel, self.announcer.clone()) else {
            tracing::warn!("approval needed but no approval channel or Slack app; nothing done");
            self.record_refusal(&record, Refusal::NotEnabled).await;
            return Answered::ApprovalUnavailable;
        };
        let record = match self
            .ledger
            .step(record.id(), |r, now| r.await_approval(now))
            .await
        {
            Ok(r) => r,
            Err(LedgerError::Store(_)) => return Answered::Unavailable,
            Err(_) => return Answered::InProgress,
        };
        match announcer.ask_approval(&channel, &record).await {
            Ok(card) => {
                let _ = self.ledger.note(record.id(), |r| r.set_card(card)).await;
                Answered::AwaitingApproval { channel }
            }
            Err(error) => {
                tracing::warn!(error = %crate::telemetry::escape_controls(&error), "could not post the approval card; nothing done");
                self.record_refusal(&record, Refusal::NotEnabled).await;
                Answered::ApprovalUnavailable
            }
        }
    }

    /// A second person's Approve (`yes`) or Deny on the approval card.
    pub async fn judge(
        &self,
        id: &str,
        approver: &Principal,
        grants: &Grants,
        yes: bool,
    ) -> Answered {
        let record = match self.ledger.get(id).await {
            Ok(Some(r)) => r,
            Ok(None) => return Answered::NothingToConfirm,
            Err(_) => return Answered::Unavailable,
        };
        if approver.sub == record.requester().sub {
            return Answered::SelfApproval;
        }
        if !grants.may_approve(
            record.verb(),
            record.target().account.as_deref(),
            record.target().service_ref(),
        ) {
            return Answered::NotAllowed;
        }
        let who = person(approver);
        let stepped = if yes {
            self.ledger.step(id, |r, now| r.approve(who, now)).await
        } else {
            self.ledger.step(id, |r, now| r.reject(who, now)).await
        };
        let record = match stepped {
            Ok(r) => r,
            Err(LedgerError::Step(StepError::Expired)) => {
                if let Ok(r) = self.ledger.step(id, |r, now| r.expire(now)).await {
                    self.settle(&r).await;
                    self.report(&r).await;
                }
                return Answered::Expired;
            }
            Err(LedgerError::Step(StepError::SelfApproval)) => return Answered::SelfApproval,
            Err(LedgerError::Store(_)) => return Answered::Unavailable,
            Err(_) => return Answered::InProgress,
        };
        if !yes {
            self.settle(&record).await;
            self.report(&record).await;
            return Answered::Rejected;
        }
        self.report(&record).await;
        if let Err(reason) = self.recheck(&record).await {
            return self.refuse(&record, reason).await;
        }
        Box::pin(self.execute(record, grants)).await
    }

    /// Reserves a place in the per-service rate limit for action `id`; `false` when the
    /// service has had its share of executed actions in the window.
    async fn reserve(&self, record: &ActionRecord, limit: u32) -> Result<bool, ()> {
        let Some(service) = record.target().service_ref() else {
            return Ok(true);
        };
        let key = Key::act_rate(&place_of(record.target()), &service.to_string());
        let now = epoch(self.clock.now());
        let window = i64::try_from(RATE_WINDOW.as_secs()).unwrap_or(600);
        let keep = self.clock.now() + RATE_WINDOW;
        for _ in 0..5 {
            let raw = self.store.get(&key).await.map_err(|_| ())?;
            let mut recent: Recent = raw
                .as_deref()
                .and_then(|r| decode(r).ok())
                .unwrap_or_default();
            recent.done.retain(|_, at| now - *at < window);
            if recent.done.contains_key(record.id()) {
                return Ok(true);
            }
            if recent.done.len() >= limit as usize {
                return Ok(false);
            }
            recent.done.insert(record.id().to_owned(), now);
            let value = encode(&recent);
            let stored = match &raw {
                Some(raw) => self.store.replace(&key, raw, &value, keep).await,
                None => self.store.create(&key, &value, keep).await,
            }
            .map_err(|_| ())?;
            if stored {
                return Ok(true);
            }
        }
        Err(())
    }

    /// The one write: rate limit, claim, call, record.
    async fn execute(&self, record: ActionRecord, grants: &Grants) -> Answered {
        let limit = grants.actions().map_or(
            crate::auth::policy::ActionSettings::DEFAULT_PER_SERVICE,
            |a| a.per_service,
        );
        match self.reserve(&record, limit).await {
            Ok(true) => {}
            Ok(false) => return self.refuse(&record, Refusal::RateLimited).await,
            Err(()) => return Answered::Unavailable,
        }
        let record = match self.ledger.claim(record.id(), LEASE).await {
            Ok(Claim::Won(r)) => *r,
            Ok(Claim::Lost) => return Answered::InProgress,
            Err(LedgerError::Store(_)) => return Answered::Unavailable,
            Err(error) => {
                tracing::info!(error = %error, "an action not ready to run; nothing done");
                return Answered::InProgress;
            }
        };
        let result = match record.change() {
            Change::Unsilence => {
                self.effector
                    .unsilence(record.actor(), record.target())
                    .await
            }
            change => {
                self.effector
                    .apply(record.actor(), record.target(), change)
                    .await
            }
        };
        match result {
            Ok(applied) => {
                metrics::counter!("opsvoice_actions_total", "verb" => record.verb().policy_name(), "outcome" => "executed").increment(1);
                let record = match self
                    .ledger
                    .step(record.id(), |r, now| {
                        r.executed(applied.request_id.clone(), now)
                    })
                    .await
                {
                    Ok(r) => r,
                    Err(error) => {
                        tracing::error!(error = %error, "the write was made but could not be recorded; the tick will find the claim");
                        return Answered::Unknown(Box::new(record));
                    }
                };
                match record.change().clone() {
                    Change::Silence {
                        until,
                        actions_were_enabled,
                    } => {
                        if let Some(key) = silence_key(record.target()) {
                            let silence = Silence {
                                action: record.id().to_owned(),
                                target: record.target().clone(),
                                until,
                                actions_were_enabled,
                                by: record.requester().clone(),
                            };
                            let keep = SystemTime::UNIX_EPOCH
                                + Duration::from_secs(u64::try_from(until).unwrap_or(0))
                                + Duration::from_secs(7 * 86_400);
                            if let Err(error) = self.store.put(&key, &encode(&silence), keep).await
                            {
                                tracing::error!(error = %crate::error::ErrorChain(&error), "a silence could not be stored: its end must be made by hand");
                            }
                        }
                    }
                    Change::Unsilence => {
                        if let Some(key) = silence_key(record.target()) {
                            let _ = self.store.delete(&key).await;
                        }
                    }
                    _ => {
                        // A service change ends when its deployment does: the tick follows it.
                        self.report(&record).await;
                        return Answered::Started(Box::new(record));
                    }
                }
                // A silence set or ended is the whole of it.
                let done = self.finish(&record, Outcome::Done, None).await;
                Answered::Done(Box::new(done.unwrap_or(record)))
            }
            Err(EffectError::Unknown { system, source }) => {
                tracing::warn!(system, error = %crate::error::ErrorChain(source.as_ref()), "an action's outcome is unknown; not retried");
                let detail = format!("{system} did not say whether the change was made");
                let r = self
                    .finish(&record, Outcome::Unknown, Some(detail))
                    .await
                    .unwrap_or(record);
                Answered::Unknown(Box::new(r))
            }
            Err(error) => {
                tracing::warn!(error = %crate::error::ErrorChain(&error), "an action was refused by AWS; nothing changed");
                let r = self
                    .finish(&record, Outcome::Failed, Some(error.to_string()))
                    .await
                    .unwrap_or(record);
                Answered::Failed(Box::new(r))
            }
        }
    }

    /// Ends `record` with `outcome`, and tells everyone who should know.
    async fn finish(
        &self,
        record: &ActionRecord,
        outcome: Outcome,
        detail: Option<String>,
    ) -> Option<ActionRecord> {
        metrics::counter!("opsvoice_actions_total", "verb" => record.verb().policy_name(), "outcome" => outcome.name()).increment(1);
        if let Some(detail) = detail {
            let _ = self
                .ledger
                .note(record.id(), |r| r.set_detail(detail))
                .await;
        }
        match self
            .ledger
            .step(record.id(), |r, now| r.finish(outcome, now))
            .await
        {
            Ok(r) => {
                self.settle(&r).await;
                self.report(&r).await;
                Some(r)
            }
            Err(error) => {
                tracing::warn!(error = %error, "could not record an action's outcome");
                None
            }
        }
    }

    /// Tells the approval card, the requester's thread and the event log where `record`
    /// stands.
    async fn report(&self, record: &ActionRecord) {
        if let Some(ops) = &self.answers_from
            && matches!(
                record.state(),
                State::Executed { .. } | State::Finished { .. }
            )
        {
            match &record.target().subject {
                Subject::Service { service } => ops.forget_service(service),
                Subject::Alarm { alarm, .. } => ops.forget_alarm(alarm),
            }
        }
        if let Some(announcer) = &self.announcer {
            if let Some(card) = record.card() {
                announcer.update_card(card, record).await;
            }
            if let Some(origin) = record.origin()
                && (record.state().is_final() || matches!(record.state(), State::Executed { .. }))
            {
                announcer.tell(origin, record).await;
            }
        }
        if let State::Finished { .. } = record.state() {
            let happening = happening(record);
            let keep = self.clock.now() + Duration::from_secs(86_400);
            if let Err(error) = crate::eventlog::append(self.store.as_ref(), &happening, keep).await
            {
                tracing::warn!(error = %crate::error::ErrorChain(&error), "could not log an action for \"what did I miss?\"");
            }
        }
    }

    /// Everything that happens with time: read-backs and cards that expired, executed
    /// actions followed to their end, claims whose instance died, silences that end.
    /// Run every few seconds by `serve`, and every minute by the Lambda's schedule.
    pub async fn tick(&self) -> Ticked {
        let mut ticked = Ticked::default();
        let now = self.clock.now();
        let open = self
            .store
            .list(Prefix::OPEN_ACTIONS)
            .await
            .unwrap_or_default();
        for (_, id) in open {
            let Ok(Some(record)) = self.ledger.get(&id).await else {
                let _ = self.store.delete(&Key::open_action(&id)).await;
                continue;
            };
            match record.state().clone() {
                State::Pending | State::AwaitingApproval
                    if record.deadline().is_some_and(|d| epoch(now) > d) =>
                {
                    if let Ok(r) = self.ledger.step(&id, |r, now| r.expire(now)).await {
                        ticked.expired += 1;
                        self.settle(&r).await;
                        self.report(&r).await;
                    }
                }
                State::Executed { .. } => {
                    if let Some(outcome) = self.follow(&record, now).await {
                        let detail = (outcome == Outcome::Unknown)
                            .then(|| "still not finished after 10 minutes".to_owned());
                        if self.finish(&record, outcome, detail).await.is_some() {
                            ticked.finished += 1;
                        }
                    }
                }
                State::Claimed { lease_until } if epoch(now) > lease_until => {
                    // The instance that held it died between its claim and its record:
                    // done when the change is visible, else unknown (never retried).
                    let visible = self.visible(&record).await;
                    let (outcome, detail) = if visible {
                        (Outcome::Done, "the change was made (seen after the fact)")
                    } else {
                        (
                            Outcome::Unknown,
                            "the instance making the change stopped; it may not have been made",
                        )
                    };
                    if self
                        .finish(&record, outcome, Some(detail.to_owned()))
                        .await
                        .is_some()
                    {
                        ticked.finished += 1;
                    }
                }
                s if s.is_final() => self.settle(&record).await,
                _ => {}
            }
        }
        ticked.silences_ended = self.end_silences(now).await;
        ticked
    }

    /// Whether an executed service change has ended: `Some(outcome)` when it has (or has
    /// been followed long enough).
    async fn follow(&self, record: &ActionRecord, now: SystemTime) -> Option<Outcome> {
        let executed = record.updated();
        let too_long = epoch(now) - executed > i64::try_from(FOLLOW_FOR.as_secs()).unwrap_or(600);
        let service = match self.effector.service(record.target()).await {
            Ok(Some(s)) => s,
            Ok(None) => return Some(Outcome::Failed),
            Err(_) => return too_long.then_some(Outcome::Unknown),
        };
        self.observe(record.target(), &service).await;
        let primary = service
            .deployments
            .iter()
            .find(|d| d.role == crate::ops::DeploymentRole::Primary);
        if primary.is_some_and(|d| d.rollout == RolloutState::Failed) {
            return Some(Outcome::Failed);
        }
        let settled = !service.rolling()
            && match record.change() {
                Change::Scale { to, .. } => service.running == *to,
                Change::Rollback { to, .. } => &service.task_definition == to,
                _ => true,
            };
        if settled {
            return Some(Outcome::Done);
        }
        too_long.then_some(Outcome::Unknown)
    }

    /// Whether a claimed change shows in AWS.
    async fn visible(&self, record: &ActionRecord) -> bool {
        match record.change() {
            Change::Silence { .. } => {
                matches!(self.effector.alarm(record.target()).await, Ok(Some(a)) if !a.actions_enabled)
            }
            Change::Unsilence => {
                matches!(self.effector.alarm(record.target()).await, Ok(Some(a)) if a.actions_enabled)
            }
            change => match self.effector.service(record.target()).await {
                Ok(Some(s)) => match change {
                    Change::Rollback { to, .. } => &s.task_definition == to,
                    Change::Scale { to, .. } => s.desired == *to,
                    _ => record
                        .claimed_at()
                        .zip(s.newest_deployment())
                        .is_some_and(|(claimed, newest)| newest >= claimed),
                },
                _ => false,
            },
        }
    }

    /// Ends every silence that is due: the actions on again if they were on when it
    /// began. Each is taken from the store first, so of two instances only one ends it.
    async fn end_silences(&self, now: SystemTime) -> usize {
        let mut ended = 0;
        for (key, raw) in self.store.list(Prefix::SILENCES).await.unwrap_or_default() {
            let Ok(silence) = decode::<Silence>(&raw) else {
                continue;
            };
            if silence.until > epoch(now) {
                continue;
            }
            let Ok(Some(taken)) = self.store.take(&key).await else {
                continue;
            };
            if silence.actions_were_enabled
                && let Err(error) = self.effector.unsilence(&silence.by, &silence.target).await
            {
                tracing::warn!(error = %crate::error::ErrorChain(&error), "a silence could not end; trying again at the next tick");
                let keep = now + Duration::from_secs(7 * 86_400);
                let _ = self.store.put(&key, &taken, keep).await;
                continue;
            }
            tracing::info!(
                target: "opsvoice::audit",
                event = "silence_ended",
                action = %crate::telemetry::escape_controls(&silence.action),
                target = %crate::telemetry::escape_controls(&silence.target.to_string()),
                enabled_again = silence.actions_were_enabled,
                "silence_ended"
            );
            ended += 1;
        }
        ended
    }
}

fn service_basis(service: &ServiceNow) -> Basis {
    Basis {
        task_definition: Some(service.task_definition.clone()),
        desired: Some(service.desired),
        rolling: service.rolling(),
        newest_deployment: service.newest_deployment(),
        actions_enabled: None,
    }
}

/// The happening an ended action is (for "what did I miss?").
#[must_use]
pub fn happening(record: &ActionRecord) -> crate::eventlog::Happening {
    use crate::act::Subject;
    use crate::act::record::{Change, State};
    let (subject, service) = match &record.target().subject {
        Subject::Service { service } => (service.name.clone(), Some(service.clone())),
        Subject::Alarm { alarm, service } => (alarm.clone(), service.clone()),
    };
    let outcome = match record.state() {
        State::Finished { outcome } => outcome.name().to_owned(),
        other => other.name().to_owned(),
    };
    let to = match record.change() {
        Change::Scale { to, .. } => Some(to.to_string()),
        Change::Silence { until, .. } => Some(until.to_string()),
        Change::Rollback { to, .. } => Some(to.clone()),
        Change::Restart { .. } | Change::Unsilence => None,
    };
    crate::eventlog::Happening {
        at: record.updated(),
        what: crate::eventlog::What::ActionFinished,
        by: Some(record.requester().username.clone()),
        subject,
        service,
        account: record.target().account.clone(),
        acted: Some(crate::eventlog::Acted {
            verb: record.verb().policy_name().to_owned(),
            by: record.requester().username.clone(),
            approved_by: record.approver().map(|a| a.username.clone()),
            asked_at: record.created(),
            outcome,
            to,
            unsilence: matches!(record.change(), Change::Unsilence),
        }),
    }
}
