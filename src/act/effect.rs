//! The one place opsvoice writes to AWS: reading a target fresh (never from a cache) to
//! read back and re-check it, and applying one [`Change`] through the actions role.
//!
//! [`Effector`] is the seam: the AWS implementation assumes the actions role per action
//! (with the requester as `SourceIdentity`), the demo fleet simulates the effect, and the
//! tests count the write calls either makes.

use serde::{Deserialize, Serialize};

use super::Target;
use super::record::{Change, Person};
use crate::ops::{Deployment, OpsError, ServiceRef};

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

/// Where the evidence that a task definition ran comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// An older deployment ECS still lists (in progress, or just replaced).
    OlderDeployment,
    /// The deployment history opsvoice keeps (`act::history`).
    History,
    /// The service's own events name it.
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
    /// AWS refused the call (a 4xx): nothing was written.
    #[error("{system} refused the change: {message}")]
    Refused {
        system: &'static str,
        message: String,
    },
    /// The call may or may not have taken effect (a timeout, a 5xx, a dropped
    /// connection): never retried automatically.
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
    /// The service as it is now (`None`: it does not exist).
    ///
    /// # Errors
    /// ECS could not be read.
    async fn service(&self, target: &Target) -> Result<Option<ServiceNow>, OpsError>;

    /// The alarm as it is now (`None`: it does not exist).
    ///
    /// # Errors
    /// CloudWatch could not be read.
    async fn alarm(&self, target: &Target) -> Result<Option<AlarmNow>, OpsError>;

    /// Makes `change` to `target` as `actor`: exactly one write call
    /// (`ecs:UpdateService` or `cloudwatch:DisableAlarmActions`), through the actions role
    /// assumed for this action, with `actor` as the source identity.
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
