//! The one place opsvoice writes to AWS: reading a target fresh (never from a cache) to
//! read back and re-check it, and applying one [`Change`] through the actions role.
//!
//! [`Effector`] is the seam: the AWS implementation ([`aws::AwsEffector`], built by
//! [`aws::effector`]) assumes the actions role per action (with the requester as
//! `SourceIdentity`), the demo fleet's ([`demo::DemoEffector`], from
//! `DemoFleet::effector`) simulates the effect, and the tests count the write calls either
//! makes.

pub mod aws;
pub mod demo;

use serde::{Deserialize, Serialize};

use super::Target;
use super::record::{Change, Person};
use crate::ops::{Deployment, DeploymentRole, OpsError, RolloutState, ServiceRef};

/// An ECS service as the verbs need it, read fresh from ECS.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceNow {
    pub service: ServiceRef,
    /// `deploymentController.type`: `ECS`, `CODE_DEPLOY` or `EXTERNAL`.
    pub controller: String,
    /// The task definition the primary deployment runs, as `family:revision`.
    pub task_definition: String,
    pub desired: u32,
    pub running: u32,
    /// Newest first; the primary is the one ECS is rolling towards.
    pub deployments: Vec<Deployment>,
    /// The task definition the service ran before the current one, with its evidence;
    /// `None` when nothing the service says shows one.
    pub previous: Option<Previous>,
}

impl ServiceNow {
    /// Whether a deployment is rolling out now (another deployment still listed, or the
    /// primary not yet completed).
    #[must_use]
    pub fn rolling(&self) -> bool {
        self.deployments.len() > 1
            || self
                .deployments
                .iter()
                .any(|d| d.rollout == crate::ops::RolloutState::InProgress)
    }

    /// When the newest deployment was created (epoch seconds).
    #[must_use]
    pub fn newest_deployment(&self) -> Option<i64> {
        self.deployments
            .iter()
            .map(|d| crate::store::epoch(d.created_at))
            .max()
    }
}

/// A task definition the service ran before, and how we know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    /// `family:revision`.
    pub task_definition: String,
    /// Until when it ran (epoch seconds), when known; `None` while it still runs.
    pub ran_until: Option<i64>,
    pub evidence: Evidence,
}

impl Previous {
    /// The evidence ECS's own `deployments[]` holds: the newest deployment that is not the
    /// primary, runs a task definition other than `current`, and did run (it has running
    /// tasks, or its rollout completed). A deployment whose rollout failed is never one:
    /// while the circuit breaker rolls back, the failed deployment is still listed, and
    /// "the one before" must not be the one that just failed.
    ///
    /// `ran_until` is `None` while it still has running tasks, else its `updatedAt` (when
    /// ECS last changed it: as it drained).
    ///
    /// Nothing here guesses: a revision number one below `current` is no evidence that it
    /// ever ran, so `None` is the answer when ECS lists nothing older.
    #[must_use]
    pub fn from_deployments(current: &str, deployments: &[Deployment]) -> Option<Previous> {
        deployments
            .iter()
            .filter(|d| d.role != DeploymentRole::Primary)
            .filter(|d| !d.task_definition.is_empty() && d.task_definition != current)
            .filter(|d| {
                d.rollout != RolloutState::Failed
                    && (d.running > 0 || d.rollout == RolloutState::Completed)
            })
            .max_by_key(|d| d.created_at)
            .map(|d| Previous {
                task_definition: d.task_definition.clone(),
                ran_until: (d.running == 0).then(|| crate::store::epoch(d.updated_at)),
                evidence: Evidence::OlderDeployment,
            })
    }
}

/// Where the evidence that a task definition ran comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// An older deployment ECS still lists (in progress, or just replaced).
    OlderDeployment,
    /// The deployment history opsvoice keeps (`act::history`), or, on the demo fleet, the
    /// history the demo keeps.
    History,
    /// The service's own events name it. (ECS's documented service event messages name
    /// deployments, tasks and target groups, never a task definition, so the AWS effector
    /// never gives this; it is kept for sources whose events do.)
    ServiceEvents,
}

/// A CloudWatch alarm as a silence needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmNow {
    pub name: String,
    /// Every action ARN: `AlarmActions`, `OKActions` and `InsufficientDataActions`.
    pub actions: Vec<String>,
    /// `ActionsEnabled`.
    pub actions_enabled: bool,
}

impl AlarmNow {
    /// Whether every action only notifies (SNS): `DisableAlarmActions` would also stop an
    /// Auto Scaling or EC2 action, so only these alarms may be silenced.
    #[must_use]
    pub fn notification_only(&self) -> bool {
        self.actions.iter().all(|a| a.starts_with("arn:aws:sns:"))
    }
}

/// AWS took the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The AWS request id of the write (what CloudTrail shows).
    pub request_id: String,
}

/// Why a write did not certainly happen.
#[derive(Debug, thiserror::Error)]
pub enum EffectError {
    /// The actions role could not be assumed: nothing was written.
    #[error("could not assume the actions role")]
    Role(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// AWS refused the call (a 4xx other than throttling), or the call never left (no
    /// connection could be made, or the request could not be built): nothing was written.
    /// `message` is AWS's own (`ServiceNotFoundException: Service not found.`), for the log
    /// and the audit.
    #[error("{system} refused the change: {message}")]
    Refused {
        system: &'static str,
        message: String,
    },
    /// The call may or may not have taken effect (a timeout, a 5xx, throttling, a
    /// connection dropped after the request went out, an answer that could not be read):
    /// never retried automatically.
    #[error("{system} did not say whether the change was made")]
    Unknown {
        system: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Reads targets fresh and writes changes: the only code that calls an AWS write API.
#[async_trait::async_trait]
pub trait Effector: Send + Sync + std::fmt::Debug {
    /// Whether this effector can read and write `target` at all: its account and region
    /// are ones it reads ([`super::Refusal::NotSetUpHere`] if not), and an actions role
    /// writes there ([`super::Refusal::NoActionsRole`] if none). Asked before anything
    /// else, so such a target is refused with its reason and no call. Default: everywhere.
    ///
    /// # Errors
    /// The refusal that says why not.
    fn acts_in(&self, target: &Target) -> Result<(), super::Refusal> {
        let _ = target;
        Ok(())
    }

    /// How many regions of `account` (a configured account's name) this effector reads:
    /// the read-back names the region too when it is more than one. Default: one.
    fn regions_of(&self, account: &str) -> usize {
        let _ = account;
        1
    }

    /// The service as it is now (`None`: it does not exist, or the target is an alarm).
    ///
    /// # Errors
    /// ECS could not be read.
    async fn service(&self, target: &Target) -> Result<Option<ServiceNow>, OpsError>;

    /// The alarm as it is now (`None`: it does not exist, or the target is a service).
    ///
    /// # Errors
    /// CloudWatch could not be read.
    async fn alarm(&self, target: &Target) -> Result<Option<AlarmNow>, OpsError>;

    /// Makes `change` to `target` as `actor`: exactly one write call, made once (never
    /// retried): `ecs:UpdateService` for a restart (`forceNewDeployment`), a rollback
    /// (`taskDefinition`) or a scale (`desiredCount`); `cloudwatch:DisableAlarmActions` for
    /// a silence, `cloudwatch:EnableAlarmActions` for [`Change::Unsilence`]. Through the
    /// actions role assumed for this action, with `actor` as the source identity. It does
    /// not re-read the target: the caller re-checks it first.
    ///
    /// # Errors
    /// See [`EffectError`]: only `Unknown` may have changed anything.
    async fn apply(
        &self,
        actor: &Person,
        target: &Target,
        change: &Change,
    ) -> Result<Applied, EffectError>;

    /// Ends a silence: `cloudwatch:EnableAlarmActions` on the target alarm, as `actor`
    /// (the person who silenced it, when the silence ends on its own).
    ///
    /// # Errors
    /// As [`Self::apply`].
    async fn unsilence(&self, actor: &Person, target: &Target) -> Result<Applied, EffectError>;
}
