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
    /// Our newest action on the service in the last day (who restarted, rolled back or
    /// scaled it, and how it ended).
    pub acted: Option<Box<super::what_happened::Item>>,
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
    let acted = super::what_happened::last_acted(dialog, turn, |h| {
        h.service.as_ref() == Some(&service)
    })
    .await
    .map(Box::new);
    let report = Report {
        acted,
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
        Reply::from(report),
        Some(&service),
    ))
}

// What this answer says: its sentences, its links (chat) and its card.

use fluent_bundle::FluentValue;

use crate::speech::render::{Button, Say, n, possessive, s};

/// The sentences of a deployment answer.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    let mut args: Vec<(&str, FluentValue<'_>)> = vec![
        ("state", s(r.state.as_str())),
        ("service", s(say.service(&r.service))),
        ("owner", s(possessive(&say.service(&r.service)))),
        ("taskdef", s(say.taskdef(&r.task_definition))),
    ];
    match &r.state {
        State::InProgress {
            new_running,
            desired,
            age,
        } => {
            args.push(("new", n(*new_running)));
            args.push(("desired", n(*desired)));
            args.push(("age", s(say.duration(*age))));
        }
        State::Completed { age } | State::Failed { age } => {
            args.push(("age", s(say.duration(*age))));
        }
        State::RolledBack {
            failed_task_definition,
            age,
        } => {
            args.push(("failed", s(say.taskdef(failed_task_definition))));
            args.push(("age", s(say.duration(*age))));
        }
        State::Unknown => {}
    }
    let mut out = vec![say.msg("deploy-state", args)];
    if let Some(reason) = &r.reason {
        out.push(say.msg(
            "deploy-reason",
            [("reason", s(reason.trim_end_matches('.')))],
        ));
    }
    if r.failed_tasks > 0 && (detail || !matches!(r.state, State::Completed { .. })) {
        out.push(say.msg("deploy-failed-tasks", [("count", n(r.failed_tasks))]));
    }
    // Who acted on it through us: "who restarted cart" hears who.
    if let Some(acted) = &r.acted {
        out.push(super::what_happened::item(say, acted));
    }
    if detail || !say.voice() {
        for (event, age) in r.events.iter().take(if detail { 3 } else { 1 }) {
            out.push(say.event("deploy-event", event, *age));
        }
    }
    out
}

/// The console link.
pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    vec![say.service_console(&r.service)]
}

/// The card: its title kind and the natural follow-ups.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    (
        "deploy",
        vec![
            say.button("button-health", say.about("say-health", &r.service)),
            say.button("button-changes", say.msg("say-changes", [])),
            say.more(),
        ],
    )
}
