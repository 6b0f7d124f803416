//! ServiceHealth: "how is checkout doing?" Tasks running against desired, the rollout in
//! progress, alarms firing; CPU, memory and the latest event when asked for detail.

use std::time::Duration;

use super::{Answer, Dialog, Reply, Turn, need};
use crate::ops::{AlarmState, MetricKind, OpsError, RolloutState, ServiceRef, ServiceStatus};

/// The one-word state of a service, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Down,
    Degraded,
    Deploying,
    ScaledToZero,
    Healthy,
}

impl Verdict {
    /// The Fluent selector for this verdict.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Down => "down",
            Verdict::Degraded => "degraded",
            Verdict::Deploying => "deploying",
            Verdict::ScaledToZero => "scaled-to-zero",
            Verdict::Healthy => "healthy",
        }
    }
}

/// Judges a service from its task counts, its rollout and how many of its alarms fire.
#[must_use]
pub fn assess(status: &ServiceStatus, firing: usize) -> Verdict {
    if status.desired == 0 && status.running == 0 {
        return Verdict::ScaledToZero;
    }
    if status.running == 0 {
        return Verdict::Down;
    }
    if status
        .primary()
        .is_some_and(|d| d.rollout == RolloutState::InProgress)
    {
        return Verdict::Deploying;
    }
    if status.running < status.desired || firing > 0 {
        return Verdict::Degraded;
    }
    Verdict::Healthy
}

/// A rollout in progress: how many tasks of the new version are up, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub new_running: u32,
    pub desired: u32,
    pub age: Duration,
}

/// The facts of a ServiceHealth answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub service: ServiceRef,
    pub verdict: Verdict,
    pub running: u32,
    pub desired: u32,
    pub pending: u32,
    /// Alarms firing for the service, oldest first, with how long each has fired.
    /// Why not, when CloudWatch could not tell.
    pub firing: Result<Vec<(String, Duration)>, super::Missing>,
    pub rollout: Option<Rollout>,
    pub last_event: Option<(String, Duration)>,
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let service = need!(dialog.target_service(turn).await?);
    let ops = dialog.ops();
    let (status, alarms) = tokio::join!(ops.service(&service), ops.service_firing_alarms(&service));
    let Some(status) = status? else {
        return Ok(dialog.elicit(
            turn,
            super::Slot::Service,
            Reply::UnknownService(service.name.clone()),
        ));
    };
    let firing = match alarms {
        Ok(alarms) => {
            let mut firing: Vec<(String, Duration)> = alarms
                .into_iter()
                .filter(|a| a.state == AlarmState::Alarm)
                .map(|a| (a.name, dialog.age(a.since)))
                .collect();
            firing.sort_by_key(|f| std::cmp::Reverse(f.1));
            Ok(firing)
        }
        Err(error) => {
            tracing::warn!(error = %super::ErrorChain(&error), "alarms left out of the health answer");
            Err(super::Missing::from(&error))
        }
    };
    let verdict = assess(&status, firing.as_ref().map_or(0, Vec::len));
    let rollout = status
        .primary()
        .filter(|d| d.rollout == RolloutState::InProgress)
        .map(|d| Rollout {
            new_running: d.running,
            desired: d.desired,
            age: dialog.age(d.created_at),
        });
    let (cpu, memory) = if turn.detail {
        let window = Duration::from_secs(300);
        let (cpu, memory) = tokio::join!(
            ops.metric(&service, MetricKind::Cpu, window),
            ops.metric(&service, MetricKind::Memory, window)
        );
        (
            cpu.ok().flatten().and_then(|s| s.latest()),
            memory.ok().flatten().and_then(|s| s.latest()),
        )
    } else {
        (None, None)
    };
    let report = Report {
        verdict,
        running: status.running,
        desired: status.desired,
        pending: status.pending,
        firing,
        rollout,
        last_event: status
            .events
            .first()
            .map(|e| (e.message.clone(), dialog.age(e.at))),
        cpu,
        memory,
        service: service.clone(),
    };
    Ok(Answer::about(turn, Reply::from(report), Some(&service)))
}

// What this answer says: its sentences, its links (chat) and its card.

use crate::ops::MetricUnit;
use crate::speech::render::{Button, Say, n, s};

/// The spoken or written sentences of a health answer, verdict first.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    let service = say.service(&r.service);
    let verdict_key = if r.verdict == Verdict::Degraded && r.running >= r.desired {
        "degraded-alarms"
    } else {
        r.verdict.as_str()
    };
    let verdict = say.msg(
        "health-verdict",
        [
            ("verdict", s(verdict_key)),
            ("service", s(service)),
            ("running", n(r.running)),
            ("desired", n(r.desired)),
            ("new", n(r.rollout.as_ref().map_or(0, |x| x.new_running))),
            (
                "age",
                s(r.rollout
                    .as_ref()
                    .map(|x| say.duration(x.age))
                    .unwrap_or_default()),
            ),
        ],
    );
    let mut out = Vec::new();
    match &r.firing {
        Ok(firing) => {
            let alarms = say.msg(
                "health-alarms",
                [
                    ("count", n(firing.len() as f64)),
                    (
                        "age",
                        s(firing
                            .first()
                            .map(|(_, age)| say.duration(*age))
                            .unwrap_or_default()),
                    ),
                ],
            );
            out.push(say.msg(
                "health-summary",
                [("verdict", s(verdict)), ("alarms", s(alarms))],
            ));
            if !firing.is_empty() && (detail || !say.voice()) {
                let names: Vec<String> = firing.iter().map(|(name, _)| say.name(name)).collect();
                out.push(say.msg(
                    "health-alarm-names",
                    [
                        ("count", n(names.len() as f64)),
                        ("names", s(say.list(&names, say.max_items(detail)))),
                    ],
                ));
            }
        }
        Err(super::Missing::Unreachable) => {
            out.push(say.msg("health-summary-no-alarms", [("verdict", s(verdict))]));
        }
        Err(super::Missing::Slow) => {
            out.push(say.msg("health-summary-alarms-slow", [("verdict", s(verdict))]));
        }
    }
    if detail {
        if r.pending > 0 && r.verdict != Verdict::Deploying {
            out.push(say.msg("health-pending", [("count", n(r.pending))]));
        }
        if let (Some(cpu), Some(memory)) = (r.cpu, r.memory) {
            out.push(say.msg(
                "health-usage",
                [
                    ("cpu", s(say.value(MetricUnit::Percent, cpu))),
                    ("memory", s(say.value(MetricUnit::Percent, memory))),
                ],
            ));
        }
        if let Some((event, age)) = &r.last_event {
            out.push(say.event("health-last-event", event, *age));
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
        "health",
        vec![
            say.button("button-deploy", say.about("say-deploy", &r.service)),
            say.button("button-alarms", say.about("say-service-alarms", &r.service)),
            say.button("button-cpu", say.asking_metric(&r.service, MetricKind::Cpu)),
            say.button(
                "button-latency",
                say.asking_metric(&r.service, MetricKind::Latency),
            ),
            say.more(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Deployment, DeploymentRole};
    use std::time::SystemTime;

    fn status(desired: u32, running: u32, rollout: RolloutState) -> ServiceStatus {
        ServiceStatus {
            service: ServiceRef::new("prod", "x"),
            status: "ACTIVE".into(),
            desired,
            running,
            pending: 0,
            deployments: vec![Deployment {
                id: "d".into(),
                role: DeploymentRole::Primary,
                rollout,
                rollout_reason: None,
                task_definition: "x:1".into(),
                desired,
                running,
                pending: 0,
                failed_tasks: 0,
                created_at: SystemTime::UNIX_EPOCH,
                updated_at: SystemTime::UNIX_EPOCH,
            }],
            events: vec![],
            target_groups: vec![],
        }
    }

    #[test]
    fn verdicts_follow_tasks_rollouts_and_alarms() {
        use RolloutState::{Completed, InProgress};
        assert_eq!(assess(&status(3, 3, Completed), 0), Verdict::Healthy);
        assert_eq!(assess(&status(3, 2, Completed), 0), Verdict::Degraded);
        assert_eq!(assess(&status(3, 3, Completed), 1), Verdict::Degraded);
        assert_eq!(assess(&status(3, 0, Completed), 0), Verdict::Down);
        assert_eq!(assess(&status(3, 3, InProgress), 0), Verdict::Deploying);
        assert_eq!(assess(&status(0, 0, Completed), 0), Verdict::ScaledToZero);
    }
}
