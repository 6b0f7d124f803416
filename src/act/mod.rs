//! Acting on the fleet (issue 31), first slice: who may ask for which verb on what (the
//! [`Gate`], over the policy's grants and the `OPSVOICE_ACTIONS` kill switch), and the
//! durable [`record::ActionRecord`] each action is, with its legal steps, its expiry, its
//! audit events and the store-level claim that makes an action run once ([`ledger`]).
//!
//! Nothing here calls AWS, and no intent answers with an action yet: the verbs, the
//! read-back and confirmation on each channel, and approval cards build on this.

pub mod desk;
pub mod effect;
pub mod ledger;
pub mod record;

use serde::{Deserialize, Serialize};

use crate::auth::policy::Grants;
use crate::config::Config;
use crate::ops::ServiceRef;
use crate::speech::render::{Say, s};
use crate::vocab::Verb;

/// What an action is aimed at: one service, or one alarm (tied to a service or not), in a
/// configured account and region when there are several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The configured account's name; `None` without an accounts file (the home account).
    pub account: Option<String>,
    pub region: Option<String>,
    pub subject: Subject,
}

/// The thing an action changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Subject {
    /// An ECS service (restart, roll back, scale).
    Service { service: ServiceRef },
    /// A CloudWatch alarm (silence), with the service it belongs to when it has one.
    Alarm {
        alarm: String,
        service: Option<ServiceRef>,
    },
}

impl Target {
    /// A service: in its configured account and region when it has a place (so approval
    /// globs, grants and the rate limit know the account), else in the home account.
    #[must_use]
    pub fn service(service: ServiceRef) -> Self {
        Self {
            account: service.place.as_ref().map(|p| p.account.clone()),
            region: service.place.as_ref().map(|p| p.region.clone()),
            subject: Subject::Service { service },
        }
    }

    /// An alarm: in its service's account and region when it has one, else in the home
    /// account.
    #[must_use]
    pub fn alarm(alarm: impl Into<String>, service: Option<ServiceRef>) -> Self {
        let place = service.as_ref().and_then(|s| s.place.clone());
        Self {
            account: place.as_ref().map(|p| p.account.clone()),
            region: place.map(|p| p.region),
            subject: Subject::Alarm {
                alarm: alarm.into(),
                service,
            },
        }
    }

    /// An alarm in `place` (its account and region, as the accounts' source stamps it),
    /// else in its service's, else in the home account.
    #[must_use]
    pub fn alarm_at(
        alarm: impl Into<String>,
        service: Option<ServiceRef>,
        place: Option<crate::ops::Place>,
    ) -> Self {
        let mut target = Self::alarm(alarm, service);
        if let Some(place) = place {
            target.account = Some(place.account);
            target.region = Some(place.region);
        }
        target
    }

    /// The service the target is or belongs to, which decides who sees it.
    #[must_use]
    pub fn service_ref(&self) -> Option<&ServiceRef> {
        match &self.subject {
            Subject::Service { service } => Some(service),
            Subject::Alarm { service, .. } => service.as_ref(),
        }
    }

    /// The cluster the target is in, which decides whether approval is needed.
    #[must_use]
    pub fn cluster(&self) -> Option<&str> {
        self.service_ref().map(|s| s.cluster.as_str())
    }

    /// Whether `verb` can apply to this kind of target (a silence is of an alarm, the
    /// other verbs of a service).
    #[must_use]
    pub fn fits(&self, verb: Verb) -> bool {
        matches!(
            (&self.subject, verb),
            (Subject::Alarm { .. }, Verb::Silence)
                | (
                    Subject::Service { .. },
                    Verb::Restart | Verb::Rollback | Verb::Scale
                )
        )
    }
}

impl std::fmt::Display for Target {
    /// `account:cluster/service` or `account:alarm` (logs and audit; escape before use).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(account) = &self.account {
            write!(f, "{account}:")?;
        }
        match &self.subject {
            Subject::Service { service } => write!(f, "{service}"),
            Subject::Alarm { alarm, .. } => write!(f, "alarm {alarm}"),
        }
    }
}

/// Why an action was refused. Stored in the action record (`refused`), and said to the
/// user through its Fluent message in `prompts/<locale>/act.ftl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// `OPSVOICE_ACTIONS=off`: every new action, whatever the policy says.
    #[error("actions are switched off (OPSVOICE_ACTIONS=off)")]
    KillSwitch,
    /// The policy has no `[actions]` table, or `enabled = false`.
    #[error("the policy does not enable actions")]
    NotEnabled,
    /// The caller does not see the target at all (said as if it were unknown).
    #[error("the target is not visible to the caller")]
    Hidden,
    /// The caller sees the target, but no group of theirs grants the verb on it.
    #[error("no group of the caller grants this verb on the target")]
    NoGrant,
    /// The verb does not apply to the target (silencing a service, scaling an alarm).
    #[error("the verb does not apply to this kind of target")]
    Mismatch,
    /// Too many actions executed on the service lately (`per_service`).
    #[error("too many recent actions on the service")]
    RateLimited,
    /// The target is not as the read-back said (another deploy, a moved revision).
    #[error("the target changed since the read-back")]
    TargetChanged,
    /// A rollback whose previous task definition cannot be shown to have run.
    #[error("no evidence of the task definition the service ran before")]
    NoEvidence,
    /// A service deployed by CodeDeploy or an external controller.
    #[error("the service is not deployed by ECS")]
    NotEcsController,
    /// A target in an account or region opsvoice does not act in (none of the places it
    /// reads, or, without accounts, another region than the home one): refused before any
    /// call, rather than "unreachable".
    #[error("opsvoice is not set up to act in the target's account or region")]
    NotSetUpHere,
    /// A target in a configured account without an `actions_role` (or, for the home
    /// account, without `OPSVOICE_ACTIONS_ROLE_ARN`): read only, refused before any call.
    #[error("no actions role is configured for the target's account")]
    NoActionsRole,
    /// An alarm with an action that is not a notification (Auto Scaling, EC2).
    #[error("the alarm does more than notify")]
    NotNotificationOnly,
    /// A count below 1 or above `scale_max`, or a silence longer than `silence_max`.
    #[error("outside the policy's bounds")]
    OutOfBounds,
    /// Nothing would change (already at that count, not silenced).
    #[error("nothing would change")]
    NoChange,
}

impl Refusal {
    /// As stored and audited (`kill_switch`, `no_grant`…).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Refusal::KillSwitch => "kill_switch",
            Refusal::NotEnabled => "not_enabled",
            Refusal::Hidden => "hidden",
            Refusal::NoGrant => "no_grant",
            Refusal::Mismatch => "mismatch",
            Refusal::RateLimited => "rate_limited",
            Refusal::TargetChanged => "target_changed",
            Refusal::NoEvidence => "no_evidence",
            Refusal::NotEcsController => "not_ecs_controller",
            Refusal::NotSetUpHere => "not_set_up_here",
            Refusal::NoActionsRole => "no_actions_role",
            Refusal::NotNotificationOnly => "not_notification_only",
            Refusal::OutOfBounds => "out_of_bounds",
            Refusal::NoChange => "no_change",
        }
    }

    /// The Fluent message that says why.
    #[must_use]
    pub fn message_id(self) -> &'static str {
        match self {
            Refusal::KillSwitch => "act-refused-kill-switch",
            Refusal::NotEnabled => "act-refused-not-enabled",
            Refusal::Hidden => "act-refused-hidden",
            Refusal::NoGrant => "act-refused-no-grant",
            Refusal::Mismatch => "act-refused-mismatch",
            Refusal::RateLimited => "act-refused-rate-limited",
            Refusal::TargetChanged => "act-refused-target-changed",
            Refusal::NoEvidence => "act-refused-no-evidence",
            Refusal::NotEcsController => "act-refused-controller",
            Refusal::NotSetUpHere => "act-refused-elsewhere",
            Refusal::NoActionsRole => "act-refused-read-only",
            Refusal::NotNotificationOnly => "act-refused-alarm-scales",
            Refusal::OutOfBounds => "act-refused-bounds",
            Refusal::NoChange => "act-refused-no-change",
        }
    }

    /// The reason as a sentence for the user: what was refused and why, and that nothing
    /// changed.
    #[must_use]
    pub fn explain(self, say: &Say<'_>, verb: Verb, target: &Target) -> String {
        let name = match &target.subject {
            Subject::Service { service } => say.name(&service.name),
            Subject::Alarm { alarm, .. } => say.name(alarm),
        };
        let account = target
            .account
            .as_deref()
            .map(|a| say.name(a))
            .unwrap_or_default();
        say.msg(
            self.message_id(),
            [
                ("verb", s(verb.spoken())),
                ("target", s(name)),
                ("account", s(account)),
            ],
        )
    }
}

/// The one decision every new action passes before anything else happens: the kill
/// switch, then the policy (enabled at all, the target visible, the verb granted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    kill_switch: bool,
}

impl Gate {
    /// A gate with the kill switch thrown (`true`: every action refused) or not.
    #[must_use]
    pub fn new(kill_switch: bool) -> Self {
        Self { kill_switch }
    }

    /// Whether the kill switch is thrown.
    #[must_use]
    pub fn kill_switch(&self) -> bool {
        self.kill_switch
    }

    /// The gate the configuration sets (`OPSVOICE_ACTIONS=off` throws the switch).
    #[must_use]
    pub fn from_config(config: &Config) -> Self {
        Self::new(config.actions.off)
    }

    /// Whether the caller holding `grants` may ask for `verb` on `target`.
    ///
    /// # Errors
    /// The first reason that refuses it, in this order: the kill switch, acting not
    /// enabled, a verb that does not fit the target, a target the caller does not see
    /// (before the grant, so a refusal never tells of a target the caller may not know
    /// of), no grant.
    pub fn decide(&self, grants: &Grants, verb: Verb, target: &Target) -> Result<(), Refusal> {
        if self.kill_switch {
            return Err(Refusal::KillSwitch);
        }
        if grants.actions().is_none() {
            return Err(Refusal::NotEnabled);
        }
        if !target.fits(verb) {
            return Err(Refusal::Mismatch);
        }
        let account = target.account.as_deref();
        let service = target.service_ref();
        if !grants.sees(account, service) {
            return Err(Refusal::Hidden);
        }
        if !grants.may_act(verb, account, service) {
            return Err(Refusal::NoGrant);
        }
        Ok(())
    }

    /// Whether an allowed action on `target` needs a second person's approval.
    #[must_use]
    pub fn needs_approval(grants: &Grants, target: &Target) -> bool {
        grants.actions().is_some_and(|a| {
            target
                .cluster()
                .is_some_and(|c| a.needs_approval(target.account.as_deref(), c))
        })
    }
}
