//! The action record: one durable, versioned store record per action, from the read-back
//! to the outcome. Its state moves only through the methods here, each of which refuses a
//! move the guard rails do not allow (a confirmation from someone else or another session,
//! a self-approval, a claim before approval, anything after the end) and names the audit
//! event (DESIGN §7) the move is.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{Refusal, Target};
use crate::store::epoch;
use crate::store::record::Record;
use crate::vocab::Verb;

/// How long a read-back waits for its yes (issue 31, guard rail 2).
pub const PENDING_TTL: Duration = Duration::from_secs(2 * 60);

/// A person, as the audit names them: Cognito's `sub` and username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub sub: String,
    pub username: String,
}

/// What will change, with the values the read-back names (so a person can judge it, and
/// so a later re-check can see whether the target moved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "lowercase")]
pub enum Change {
    /// A new deployment of the same task definition.
    Restart { running: u32 },
    /// Back to the task definition it ran before (`from` and `to` are `family:revision`),
    /// `ran_until` (seconds since the epoch) being the evidence that `to` ran.
    Rollback {
        from: String,
        to: String,
        ran_until: Option<i64>,
    },
    /// Desired count `from` to `to`.
    Scale { from: u32, to: u32 },
    /// Alarm actions off until `until` (seconds since the epoch); `actions_were_enabled`
    /// says whether to enable them again when it ends.
    Silence {
        until: i64,
        actions_were_enabled: bool,
    },
    /// End a silence early ("unsilence"): alarm actions on again, now.
    Unsilence,
}

impl Change {
    /// The verb this change is.
    #[must_use]
    pub fn verb(&self) -> Verb {
        match self {
            Change::Restart { .. } => Verb::Restart,
            Change::Rollback { .. } => Verb::Rollback,
            Change::Scale { .. } => Verb::Scale,
            Change::Silence { .. } | Change::Unsilence => Verb::Silence,
        }
    }
}

/// How an executed action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Done,
    Failed,
    /// The call may or may not have taken effect, and it could not be told: said out
    /// loud, never retried automatically.
    Unknown,
}

impl Outcome {
    /// As stored and audited: `done`, `failed`, `unknown`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Where an action stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Read back, waiting for the requester's yes.
    Pending,
    /// The requester said yes.
    Confirmed,
    /// An approval card is out.
    AwaitingApproval,
    /// A second person approved.
    Approved,
    /// The requester said no (or cancelled).
    Denied,
    /// An approver said no.
    Rejected,
    /// Nobody answered in time.
    Expired,
    /// A guard rail refused it.
    Refused { reason: Refusal },
    /// One instance holds it and is calling AWS, until `lease_until` (epoch seconds).
    Claimed { lease_until: i64 },
    /// AWS took the call.
    Executed { request_id: String },
    /// The end.
    Finished { outcome: Outcome },
}

impl State {
    /// The state's name, as stored and as errors say it.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Confirmed => "confirmed",
            State::AwaitingApproval => "awaiting_approval",
            State::Approved => "approved",
            State::Denied => "denied",
            State::Rejected => "rejected",
            State::Expired => "expired",
            State::Refused { .. } => "refused",
            State::Claimed { .. } => "claimed",
            State::Executed { .. } => "executed",
            State::Finished { .. } => "finished",
        }
    }

    /// Whether nothing more can happen to the action.
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            State::Denied
                | State::Rejected
                | State::Expired
                | State::Refused { .. }
                | State::Finished { .. }
        )
    }
}

/// Why a step was refused; the record is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("the action is {from}, so it cannot be {to}")]
    Illegal {
        from: &'static str,
        to: &'static str,
    },
    #[error("the action expired before it was answered")]
    Expired,
    #[error("this answer is not the requester's own, in the session of the read-back")]
    NotYours,
    #[error("the requester cannot approve or reject their own action")]
    SelfApproval,
    #[error("the action is not due to expire yet")]
    NotDue,
    #[error("a {verb} cannot apply to {target}")]
    Mismatch { verb: Verb, target: String },
}

/// A Slack message about an action: its channel and `ts` (an approval card, or the
/// requester's thread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub channel: String,
    pub ts: String,
}

/// What the read-back relied on, read again on yes and on approval: when any of it moved
/// (another deploy started, the revision or count moved, someone re-enabled the alarm),
/// the action is refused as [`Refusal::TargetChanged`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Basis {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<u32>,
    #[serde(default)]
    pub rolling: bool,
    /// When the newest deployment was created (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_deployment: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_enabled: Option<bool>,
}

/// One action, from read-back to outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    id: String,
    change: Change,
    target: Target,
    requester: Person,
    /// The channel session the read-back was given in (`lex:<sessionId>`, a Slack
    /// thread…): only a yes from the same session counts.
    session: String,
    /// Whether a second person must approve (decided by the policy at the request).
    needs_approval: bool,
    /// How long an approval card waits, in seconds (the policy's `approval_ttl`).
    approval_ttl: u64,
    state: State,
    approver: Option<Person>,
    /// Seconds since the epoch.
    created: i64,
    updated: i64,
    /// When the current wait ends (a read-back, an approval), if the state waits.
    deadline: Option<i64>,
    /// What the read-back relied on.
    #[serde(default)]
    basis: Basis,
    /// The approval card, once posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    card: Option<Place>,
    /// Where the requester asked, when it was in Slack (the outcome is told there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<Place>,
    /// How it ended, in a few words (AWS's refusal, "still rolling after 10 minutes").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// When the claim was taken (epoch seconds): a deployment newer than this is the
    /// action's own, when an instance died between the call and its record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claimed_at: Option<i64>,
    /// Whether the read-back and the card name the target's region as well as its
    /// account: when the account is read in more than one region.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    region_named: bool,
}

impl Record for ActionRecord {
    const KIND: &'static str = "action";
}

/// The audit event names of DESIGN §7, and the two steps it leaves unnamed.
pub mod event {
    pub const REQUESTED: &str = "action_requested";
    pub const CONFIRMED: &str = "action_confirmed";
    pub const DENIED: &str = "action_denied";
    pub const AWAITING_APPROVAL: &str = "action_awaiting_approval";
    pub const APPROVED: &str = "action_approved";
    pub const REJECTED: &str = "action_rejected";
    pub const EXPIRED: &str = "action_expired";
    pub const REFUSED: &str = "action_refused";
    pub const CLAIMED: &str = "action_claimed";
    pub const EXECUTED: &str = "action_executed";
    pub const FINISHED: &str = "action_finished";
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl ActionRecord {
    /// A new action, read back to `requester` in `session` at `now`, pending their yes
    /// for [`PENDING_TTL`].
    ///
    /// # Errors
    /// [`StepError::Mismatch`] when the change does not fit the target (a silence of a
    /// service).
    #[allow(clippy::too_many_arguments)] // each is one field of the record, named at the call
    pub fn request(
        id: impl Into<String>,
        change: Change,
        target: Target,
        requester: Person,
        session: impl Into<String>,
        needs_approval: bool,
        approval_ttl: Duration,
        now: SystemTime,
    ) -> Result<Self, StepError> {
        if !target.fits(change.verb()) {
            return Err(StepError::Mismatch {
                verb: change.verb(),
                target: target.to_string(),
            });
        }
        let at = epoch(now);
        Ok(Self {
            id: id.into(),
            change,
            target,
            requester,
            session: session.into(),
            needs_approval,
            approval_ttl: approval_ttl.as_secs(),
            state: State::Pending,
            approver: None,
            created: at,
            updated: at,
            deadline: Some(at.saturating_add(secs(PENDING_TTL))),
            basis: Basis::default(),
            card: None,
            origin: None,
            detail: None,
            claimed_at: None,
            region_named: false,
        })
    }

    /// The same record, naming the target's region when it is said (its account is read
    /// in more than one region; set before it is first stored).
    #[must_use]
    pub fn with_region_named(mut self, named: bool) -> Self {
        self.region_named = named;
        self
    }

    /// Whether the target's region is said with its account.
    #[must_use]
    pub fn region_named(&self) -> bool {
        self.region_named
    }

    /// The same record, relying on `basis` (set before it is first stored).
    #[must_use]
    pub fn with_basis(mut self, basis: Basis) -> Self {
        self.basis = basis;
        self
    }

    /// The same record, asked for in Slack at `origin` (set before it is first stored).
    #[must_use]
    pub fn with_origin(mut self, origin: Option<Place>) -> Self {
        self.origin = origin;
        self
    }

    #[must_use]
    pub fn basis(&self) -> &Basis {
        &self.basis
    }
    #[must_use]
    pub fn card(&self) -> Option<&Place> {
        self.card.as_ref()
    }
    #[must_use]
    pub fn origin(&self) -> Option<&Place> {
        self.origin.as_ref()
    }
    #[must_use]
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
    #[must_use]
    pub fn claimed_at(&self) -> Option<i64> {
        self.claimed_at
    }

    /// Notes where the approval card is (no step, no audit event).
    pub fn set_card(&mut self, card: Place) {
        self.card = Some(card);
    }

    /// Notes how it ended, in a few words.
    pub fn set_detail(&mut self, detail: impl Into<String>) {
        self.detail = Some(detail.into());
    }

    /// The approver's or requester's person who answers for the write in AWS's audit
    /// trail: the requester (who asked; the approver is in the record and the audit).
    #[must_use]
    pub fn actor(&self) -> &Person {
        &self.requester
    }

    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
    #[must_use]
    pub fn verb(&self) -> Verb {
        self.change.verb()
    }
    #[must_use]
    pub fn change(&self) -> &Change {
        &self.change
    }
    #[must_use]
    pub fn target(&self) -> &Target {
        &self.target
    }
    #[must_use]
    pub fn requester(&self) -> &Person {
        &self.requester
    }
    #[must_use]
    pub fn session(&self) -> &str {
        &self.session
    }
    #[must_use]
    pub fn needs_approval(&self) -> bool {
        self.needs_approval
    }
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }
    #[must_use]
    pub fn approver(&self) -> Option<&Person> {
        self.approver.as_ref()
    }
    /// When the current wait ends (epoch seconds), if the state waits.
    #[must_use]
    pub fn deadline(&self) -> Option<i64> {
        self.deadline
    }
    #[must_use]
    pub fn created(&self) -> i64 {
        self.created
    }
    #[must_use]
    pub fn updated(&self) -> i64 {
        self.updated
    }

    fn illegal(&self, to: &'static str) -> StepError {
        StepError::Illegal {
            from: self.state.name(),
            to,
        }
    }

    fn overdue(&self, now: SystemTime) -> bool {
        self.deadline.is_some_and(|d| epoch(now) > d)
    }

    fn go(
        &mut self,
        state: State,
        deadline: Option<i64>,
        now: SystemTime,
        event: &'static str,
    ) -> &'static str {
        self.state = state;
        self.deadline = deadline;
        self.updated = epoch(now);
        event
    }

    /// Whether `sub` in `session` is the requester, where the read-back was given.
    fn own(&self, sub: &str, session: &str) -> bool {
        self.requester.sub == sub && self.session == session
    }

    /// The requester's yes.
    ///
    /// # Errors
    /// Not pending, someone else or another session ([`StepError::NotYours`]), or too late.
    pub fn confirm(
        &mut self,
        sub: &str,
        session: &str,
        now: SystemTime,
    ) -> Result<&'static str, StepError> {
        if self.state != State::Pending {
            return Err(self.illegal("confirmed"));
        }
        if !self.own(sub, session) {
            return Err(StepError::NotYours);
        }
        if self.overdue(now) {
            return Err(StepError::Expired);
        }
        Ok(self.go(State::Confirmed, None, now, event::CONFIRMED))
    }

    /// The requester's no (or Cancel).
    ///
    /// # Errors
    /// Not pending, or someone else or another session.
    pub fn deny(
        &mut self,
        sub: &str,
        session: &str,
        now: SystemTime,
    ) -> Result<&'static str, StepError> {
        if self.state != State::Pending {
            return Err(self.illegal("denied"));
        }
        if !self.own(sub, session) {
            return Err(StepError::NotYours);
        }
        Ok(self.go(State::Denied, None, now, event::DENIED))
    }

    /// The approval card is out: it waits `approval_ttl`.
    ///
    /// # Errors
    /// Not confirmed, or an action that needs no approval.
    pub fn await_approval(&mut self, now: SystemTime) -> Result<&'static str, StepError> {
        if self.state != State::Confirmed || !self.needs_approval {
            return Err(self.illegal("awaiting_approval"));
        }
        let ttl = i64::try_from(self.approval_ttl).unwrap_or(i64::MAX);
        let deadline = Some(epoch(now).saturating_add(ttl));
        Ok(self.go(
            State::AwaitingApproval,
            deadline,
            now,
            event::AWAITING_APPROVAL,
        ))
    }

    fn judge(
        &mut self,
        approver: Person,
        now: SystemTime,
        to: State,
        event: &'static str,
    ) -> Result<&'static str, StepError> {
        if self.state != State::AwaitingApproval {
            return Err(self.illegal(to.name()));
        }
        if approver.sub == self.requester.sub {
            return Err(StepError::SelfApproval);
        }
        if self.overdue(now) {
            return Err(StepError::Expired);
        }
        self.approver = Some(approver);
        Ok(self.go(to, None, now, event))
    }

    /// A second person's Approve. (That they hold the `approve` grant is checked by the
    /// caller against the policy; that they are someone else is checked here.)
    ///
    /// # Errors
    /// Not awaiting approval, the requester themself, or too late.
    pub fn approve(
        &mut self,
        approver: Person,
        now: SystemTime,
    ) -> Result<&'static str, StepError> {
        self.judge(approver, now, State::Approved, event::APPROVED)
    }

    /// A second person's Deny.
    ///
    /// # Errors
    /// Not awaiting approval, the requester themself, or too late.
    pub fn reject(&mut self, approver: Person, now: SystemTime) -> Result<&'static str, StepError> {
        self.judge(approver, now, State::Rejected, event::REJECTED)
    }

    /// Nobody answered the read-back or the approval card in time.
    ///
    /// # Errors
    /// Not waiting for an answer, or not yet due.
    pub fn expire(&mut self, now: SystemTime) -> Result<&'static str, StepError> {
        if !matches!(self.state, State::Pending | State::AwaitingApproval) {
            return Err(self.illegal("expired"));
        }
        if !self.overdue(now) {
            return Err(StepError::NotDue);
        }
        Ok(self.go(State::Expired, None, now, event::EXPIRED))
    }

    /// A guard rail said no (checked again on yes and on approval).
    ///
    /// # Errors
    /// The action already ended, or is already in AWS's hands.
    pub fn refuse(&mut self, reason: Refusal, now: SystemTime) -> Result<&'static str, StepError> {
        if !matches!(
            self.state,
            State::Pending | State::Confirmed | State::AwaitingApproval | State::Approved
        ) {
            return Err(self.illegal("refused"));
        }
        Ok(self.go(State::Refused { reason }, None, now, event::REFUSED))
    }

    /// This instance takes the action to call AWS, for `lease`. Only a confirmed action
    /// that needs no approval, or an approved one, can be claimed, and only once: the
    /// store write that records the claim is conditional ([`super::ledger::Ledger::claim`]).
    ///
    /// # Errors
    /// Not ready to run (pending, awaiting approval), already claimed, or ended.
    pub fn claim(&mut self, lease: Duration, now: SystemTime) -> Result<&'static str, StepError> {
        let ready = match self.state {
            State::Confirmed => !self.needs_approval,
            State::Approved => true,
            _ => false,
        };
        if !ready {
            return Err(self.illegal("claimed"));
        }
        let lease_until = epoch(now).saturating_add(secs(lease));
        self.claimed_at = Some(epoch(now));
        Ok(self.go(State::Claimed { lease_until }, None, now, event::CLAIMED))
    }

    /// AWS took the call (`request_id` is its request id).
    ///
    /// # Errors
    /// Not claimed.
    pub fn executed(
        &mut self,
        request_id: impl Into<String>,
        now: SystemTime,
    ) -> Result<&'static str, StepError> {
        if !matches!(self.state, State::Claimed { .. }) {
            return Err(self.illegal("executed"));
        }
        let request_id = request_id.into();
        Ok(self.go(State::Executed { request_id }, None, now, event::EXECUTED))
    }

    /// The outcome: from an execution, or from a claim whose call failed or whose effect
    /// cannot be told.
    ///
    /// # Errors
    /// Neither claimed nor executed.
    pub fn finish(&mut self, outcome: Outcome, now: SystemTime) -> Result<&'static str, StepError> {
        if !matches!(self.state, State::Claimed { .. } | State::Executed { .. }) {
            return Err(self.illegal("finished"));
        }
        Ok(self.go(State::Finished { outcome }, None, now, event::FINISHED))
    }

    /// One `opsvoice::audit` event for `event` (a step just stored): the action, who asked,
    /// the verb and the target, and what the step adds (the approver, the reason, the AWS
    /// request id, the outcome). Names are escaped: they came from people.
    pub fn audit(&self, event: &'static str) {
        let esc = |t: &str| crate::telemetry::escape_controls(t).into_owned();
        let target = esc(&self.target.to_string());
        let (reason, request_id, outcome) = match &self.state {
            State::Refused { reason } => (Some(reason.code()), None, None),
            State::Executed { request_id } => (None, Some(esc(request_id)), None),
            State::Finished { outcome } => (None, None, Some(outcome.name())),
            _ => (None, None, None),
        };
        let approver = self.approver.as_ref().map(|a| esc(&a.username));
        tracing::info!(
            target: "opsvoice::audit",
            event,
            action = %esc(&self.id),
            sub = %esc(&self.requester.sub),
            username = %esc(&self.requester.username),
            verb = %self.verb(),
            target = %target,
            state = self.state.name(),
            approver = approver.as_deref(),
            reason,
            request_id = request_id.as_deref(),
            outcome,
            "{event}"
        );
    }
}
