//! DeploymentStatus: "is the payments deploy done?", "did pricing roll back?" The primary
//! deployment's rollout state, counts and age, plus the history for rollbacks.

use std::time::Duration;

use super::{Answer, Dialog, Reply, Slot, Turn, need};
use crate::ops::{DeploymentOutcome, OpsError, RolloutState, ServiceRef};

/// Where the latest deployment of a service stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    InProgress {
        new_running: u32,
        desired: u32,
        age: Duration,
    },
    Completed {
        age: Duration,
    },
    RolledBack {
        failed_task_definition: String,
        age: Duration,
    },
    Failed {
        age: Duration,
    },
    /// ECS knows of no deployment (a service that never deployed).
    Unknown,
}

impl State {
    /// The Fluent selector for this state.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            State::InProgress { .. } => "in-progress",
            State::Completed { .. } => "completed",
            State::RolledBack { .. } => "rolled-back",
            State::Failed { .. } => "failed",
            State::Unknown => "unknown",
        }
    }
}

/// The facts of a DeploymentStatus answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub service: ServiceRef,
    pub state: State,
    /// The task definition now serving (or being rolled out).
    pub task_definition: String,
    pub failed_tasks: u32,
    pub reason: Option<String>,
    /// Recent service events, newest first (for detail).
    pub events: Vec<(String, Duration)>,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let service = need!(dialog.target_service(turn).await?);
    let ops = dialog.ops();
    let (status, history) = tokio::join!(ops.service(&service), ops.service_deployments(&service));
    let Some(status) = status? else {
        return Ok(dialog.elicit(
            turn,
            Slot::Service,
            Reply::UnknownService(service.name.clone()),
        ));
    };
    // The history is what tells a rollback apart; without it the current state still stands.
    let history = history.unwrap_or_else(|error| {
        tracing::warn!(error = %super::ErrorChain(&error), "deployment history unavailable");
        Vec::new()
    });
    let primary = status.primary();
    let rolled_back = history.first().filter(|r| {
        r.outcome == DeploymentOutcome::RolledBack
            && primary.is_none_or(|p| p.rollout != RolloutState::InProgress)
    });
    let state = match (primary, rolled_back) {
        (_, Some(record)) => State::RolledBack {
            failed_task_definition: record.task_definition.clone(),
            age: dialog.age(record.finished_at.unwrap_or(record.started_at)),
        },
        (Some(p), None) => match p.rollout {
            RolloutState::InProgress => State::InProgress {
                new_running: p.running,
                desired: p.desired,
                age: dialog.age(p.created_at),
            },
            RolloutState::Completed => State::Completed {
                age: dialog.age(p.updated_at),
            },
            RolloutState::Failed => State::Failed {
                age: dialog.age(p.updated_at),
            },
        },
        (None, None) => State::Unknown,
    };
    let reason = rolled_back.and_then(|r| r.reason.clone()).or_else(|| {
        primary
            .filter(|p| p.rollout == RolloutState::Failed)
            .and_then(|p| p.rollout_reason.clone())
    });
    let report = Report {
        state,
        task_definition: primary
            .map(|p| p.task_definition.clone())
            .unwrap_or_default(),
        failed_tasks: primary.map_or(0, |p| p.failed_tasks),
        reason,
        events: status
            .events
            .iter()
            .take(3)
            .map(|e| (e.message.clone(), dialog.age(e.at)))
            .collect(),
        service: service.clone(),
    };
    Ok(Answer::about(
        turn,
        Reply::Deployment(report),
        Some(&service),
    ))
}
