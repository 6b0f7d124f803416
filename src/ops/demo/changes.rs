//! What actions change in the demo fleet, with no AWS: every clone of a [`DemoFleet`]
//! shares one record of them, by the demo's clock. (The acting layer's demo effector,
//! `act::effect::demo`, makes these changes for the verbs; this module knows nothing of
//! them.)
//!
//! A restart or a rollback starts a deployment that rolls out over [`SETTLE`] (the new
//! deployment's tasks come up as the old one's drain, then it completes); a scale moves the
//! running count to the new desired count over the same time; a silence turns an alarm's
//! actions off and an unsilence on again. What a service showed when first acted on (its
//! events, its deployment history) is kept as it was then, under what the actions added.
//!
//! The fleet's facts for acting live here too: what each service ran before ([`HISTORY`];
//! a service missing from it has no evidence, so rolling it back is refused), which service
//! CodeDeploy deploys, and each alarm's actions (one of them scales).

use std::collections::HashMap;
use std::sync::{MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use super::{DemoFleet, HOUR, MINUTE, Spec, stable_digits};
use crate::ops::{
    Deployment, DeploymentOutcome, DeploymentRecord, DeploymentRole, RolloutState, ServiceEvent,
    ServiceRef, ServiceStatus,
};

/// How long a demo rollout takes to complete, and a scale to settle.
pub const SETTLE: Duration = Duration::from_secs(45);

/// What each service ran before its current revision, as the demo's deployment history
/// keeps it: (cluster, service, revision, seconds ago it ran until). A service not listed
/// has no evidence of what it ran before. (payments-api needs none here: its older
/// deployment is still listed, mid-rollout.)
#[rustfmt::skip]
const HISTORY: &[(&str, &str, u32, u64)] = &[
    // Until :42's rollout completed, 44 minutes ago.
    ("prod", "checkout", 41, 44 * MINUTE),
    ("prod", "payments", 129, 3 * 24 * HOUR),
    ("prod", "cart", 56, 26 * HOUR),
    ("prod", "catalog", 208, 5 * 24 * HOUR),
    ("prod", "search", 76, 2 * 24 * HOUR),
    ("prod", "inventory", 63, 4 * HOUR),
    ("prod", "orders", 151, 7 * 24 * HOUR),
    // Before :17, which the circuit breaker went back to when :18 failed.
    ("prod", "pricing", 16, 9 * 24 * HOUR),
    // Until :45 was deployed; :45 has run out of memory since.
    ("prod", "recommendations", 44, 2 * 24 * HOUR - 5 * MINUTE),
    ("prod", "web-frontend", 401, 2 * HOUR),
    ("prod", "mobile-bff", 95, 30 * HOUR),
    ("prod", "fraud-check", 57, 6 * 24 * HOUR),
    ("platform", "auth", 119, 5 * HOUR),
    ("platform", "notifications", 65, 26 * HOUR),
    ("data", "etl-ingest", 70, 20 * MINUTE),
    ("data", "ml-scoring", 25, 2 * 24 * HOUR),
    ("data", "kafka-connect", 43, 3 * 24 * HOUR),
];

/// Services deployed by CodeDeploy (blue/green): ECS-side verbs are refused for them.
const CODE_DEPLOY: &[(&str, &str)] = &[("platform", "gateway")];

/// The on-call pager topic, every alarm's action unless [`ALARM_ACTIONS`] says otherwise.
const PAGER: &str = "arn:aws:sns:us-east-1:123456789012:oncall-pages";

/// Alarms whose actions are not just the pager.
#[rustfmt::skip]
const ALARM_ACTIONS: &[(&str, &[&str])] = &[
    // Scales ml-scoring out: silencing it would also stop the scaling.
    ("ml-scoring-cpu-high", &[
        PAGER,
        "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:7d3e1f20-5a6b-4c8d-9e0f-1a2b3c4d5e6f:resource/ecs/service/data/ml-scoring:policyName/ml-scoring-cpu-scale-out",
    ]),
];

/// What actions changed, shared by a fleet, its clones and its effectors.
#[derive(Debug, Default)]
pub(super) struct Acted {
    services: HashMap<ServiceRef, Changed>,
    /// Alarms whose actions were turned off (`false`) or on again (`true`).
    actions_enabled: HashMap<String, bool>,
    /// Request ids handed out so far.
    requests: u64,
}

impl Acted {
    fn request_id(&mut self) -> String {
        self.requests += 1;
        format!("demo-{}", self.requests)
    }
}

/// One service, since it was first acted on.
#[derive(Debug, Clone)]
struct Changed {
    /// The revision the primary deployment runs.
    revision: u32,
    desired: u32,
    /// When the last action was taken, and how many tasks ran then: the running count
    /// settles from there to `desired` over [`SETTLE`].
    since: SystemTime,
    running_then: u32,
    /// The primary deployment as it was when first acted on.
    primary: Deployment,
    /// Deployments that actions started, oldest first.
    deploys: Vec<Deploy>,
    /// The events (kept at their times then, and those actions add, some due later) and the
    /// history the service had when first acted on.
    events: Vec<ServiceEvent>,
    records: Vec<DeploymentRecord>,
    target_groups: Vec<String>,
}

/// A deployment an action started.
#[derive(Debug, Clone)]
struct Deploy {
    id: String,
    started: SystemTime,
    revision: u32,
    /// The deployment it replaces.
    from_id: String,
    from_revision: u32,
    from_running: u32,
    from_created: SystemTime,
}

impl Deploy {
    fn done(&self) -> SystemTime {
        self.started + SETTLE
    }
}

/// How far `now` is into the [`SETTLE`] that began at `from`, 0 to 1.
fn progress(now: SystemTime, from: SystemTime) -> f64 {
    let elapsed = now.duration_since(from).unwrap_or_default();
    (elapsed.as_secs_f64() / SETTLE.as_secs_f64()).min(1.0)
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // counts of a few tasks
fn part(count: u32, fraction: f64) -> u32 {
    (f64::from(count) * fraction).round() as u32
}

fn event(at: SystemTime, message: String) -> ServiceEvent {
    ServiceEvent { at, message }
}

impl Changed {
    /// The service as first acted on: as its scenario showed it at `now`.
    fn first(
        spec: &Spec,
        status: &ServiceStatus,
        records: Vec<DeploymentRecord>,
        now: SystemTime,
    ) -> Self {
        // A rollout the scenario had under way is superseded by the first action.
        let records = records
            .into_iter()
            .map(|mut r| {
                if r.outcome == DeploymentOutcome::InProgress {
                    r.outcome = DeploymentOutcome::Succeeded;
                    r.finished_at = Some(now);
                }
                r
            })
            .collect();
        Self {
            revision: spec.revision,
            desired: spec.desired,
            since: now,
            running_then: status.running,
            primary: status.primary().cloned().unwrap_or_else(|| Deployment {
                id: format!("ecs-svc/{}1", stable_digits(spec.name)),
                role: DeploymentRole::Primary,
                rollout: RolloutState::Completed,
                rollout_reason: None,
                task_definition: format!("{}:{}", spec.name, spec.revision),
                desired: spec.desired,
                running: status.running,
                pending: 0,
                failed_tasks: 0,
                created_at: now,
                updated_at: now,
            }),
            deploys: Vec::new(),
            events: status.events.clone(),
            records,
            target_groups: status.target_groups.clone(),
        }
    }

    fn status(&self, spec: &Spec, now: SystemTime) -> ServiceStatus {
        let td = |rev: u32| format!("{}:{rev}", spec.name);
        let desired = self.desired;
        let rolling = self.deploys.last().filter(|d| now < d.done());
        let (running, pending, deployments) = if let Some(d) = rolling {
            let f = progress(now, d.started);
            let new = part(desired, f);
            let old = part(d.from_running, 1.0 - f);
            let primary = Deployment {
                id: d.id.clone(),
                role: DeploymentRole::Primary,
                rollout: RolloutState::InProgress,
                rollout_reason: Some(format!("ECS deployment {} in progress.", d.id)),
                task_definition: td(d.revision),
                desired,
                running: new,
                pending: desired - new,
                failed_tasks: 0,
                created_at: d.started,
                updated_at: now,
            };
            let draining = Deployment {
                id: d.from_id.clone(),
                role: DeploymentRole::Active,
                rollout: RolloutState::Completed,
                rollout_reason: Some(format!("ECS deployment {} completed.", d.from_id)),
                task_definition: td(d.from_revision),
                desired: old,
                running: old,
                pending: 0,
                failed_tasks: 0,
                created_at: d.from_created,
                updated_at: now,
            };
            (new + old, desired - new, vec![primary, draining])
        } else {
            let f = progress(now, self.since);
            let from = f64::from(self.running_then);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let running = (from + (f64::from(desired) - from) * f).round() as u32;
            let pending = desired.saturating_sub(running);
            let primary = match self.deploys.last() {
                Some(d) => Deployment {
                    id: d.id.clone(),
                    role: DeploymentRole::Primary,
                    rollout: RolloutState::Completed,
                    rollout_reason: Some(format!("ECS deployment {} completed.", d.id)),
                    task_definition: td(d.revision),
                    desired,
                    running,
                    pending,
                    failed_tasks: 0,
                    created_at: d.started,
                    updated_at: d.done(),
                },
                None => Deployment {
                    desired,
                    running,
                    pending,
                    ..self.primary.clone()
                },
            };
            (running, pending, vec![primary])
        };
        let mut events: Vec<ServiceEvent> = self
            .events
            .iter()
            .filter(|e| e.at <= now)
            .cloned()
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.at));
        ServiceStatus {
            service: ServiceRef::new(spec.cluster, spec.name),
            status: "ACTIVE".to_owned(),
            desired,
            running,
            pending,
            deployments,
            events,
            target_groups: self.target_groups.clone(),
        }
    }

    fn records(&self, spec: &Spec, now: SystemTime) -> Vec<DeploymentRecord> {
        let mut records = self.records.clone();
        for (i, d) in self.deploys.iter().enumerate() {
            // A deployment ends when it completes, or when the next one replaces it.
            let end = self
                .deploys
                .get(i + 1)
                .map_or(d.done(), |next| next.started.min(d.done()));
            records.push(DeploymentRecord {
                service: ServiceRef::new(spec.cluster, spec.name),
                task_definition: format!("{}:{}", spec.name, d.revision),
                outcome: if now < end {
                    DeploymentOutcome::InProgress
                } else {
                    DeploymentOutcome::Succeeded
                },
                started_at: d.started,
                finished_at: (now >= end).then_some(end),
                reason: None,
            });
        }
        records.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        records
    }

    /// The revision the service ran before the current one, by the deployments actions
    /// started: the newest that moved it from another revision, once it completed; with
    /// when it stopped running.
    fn ran_before(&self, spec: &Spec, now: SystemTime) -> Option<(String, SystemTime)> {
        self.deploys
            .iter()
            .rev()
            .find(|d| d.from_revision != d.revision)
            .filter(|d| d.revision == self.revision && d.done() <= now)
            .map(|d| (format!("{}:{}", spec.name, d.from_revision), d.done()))
    }
}

/// What the demo fleet knows of a service, for acting on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceFacts {
    pub status: ServiceStatus,
    /// `deploymentController.type`: `ECS` or `CODE_DEPLOY`.
    pub controller: &'static str,
    /// The task definition the primary deployment runs, `family:revision`.
    pub task_definition: String,
    /// What the service ran before, by the demo's own records (its deployment history, or
    /// a rollout an action made), with when it stopped running; `None` when they hold
    /// nothing (ECS's still-listed older deployment, in `status`, is for the caller to read).
    pub ran_before: Option<(String, SystemTime)>,
}

/// A change to a demo service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoChange {
    /// A new deployment of the same revision.
    Restart,
    /// A new deployment of `family:revision`.
    Deploy { task_definition: String },
    /// A new desired count.
    Scale { desired: u32 },
}

/// What the demo fleet refuses, in ECS's and CloudWatch's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoRefusal {
    #[error("ServiceNotFoundException: Service not found.")]
    NoService,
    #[error("ClientException: Unable to describe task definition.")]
    NoTaskDefinition,
    #[error("ResourceNotFound: no alarm named {0}")]
    NoAlarm(String),
}

impl DemoFleet {
    fn acted(&self) -> MutexGuard<'_, Acted> {
        self.acted.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The service as actions left it; `None` when none was taken on it.
    pub(super) fn acted_status(&self, spec: &Spec) -> Option<ServiceStatus> {
        let changed = self
            .acted()
            .services
            .get(&ServiceRef::new(spec.cluster, spec.name))
            .cloned()?;
        Some(changed.status(spec, self.clock.now()))
    }

    /// The history with the deployments actions started; `None` when none was taken.
    pub(super) fn acted_records(&self, spec: &Spec) -> Option<Vec<DeploymentRecord>> {
        let changed = self
            .acted()
            .services
            .get(&ServiceRef::new(spec.cluster, spec.name))
            .cloned()?;
        Some(changed.records(spec, self.clock.now()))
    }

    /// What the fleet knows of `service` for acting on it; `None` if there is no such
    /// service.
    #[must_use]
    pub fn service_facts(&self, service: &ServiceRef) -> Option<ServiceFacts> {
        let spec = self.spec(service)?;
        let now = self.clock.now();
        let changed = self.acted().services.get(service).cloned();
        let status = match &changed {
            Some(c) => c.status(spec, now),
            None => self.scenario_status(spec),
        };
        let revision = changed.as_ref().map_or(spec.revision, |c| c.revision);
        let history = || {
            HISTORY
                .iter()
                .find(|(c, n, ..)| *c == spec.cluster && *n == spec.name)
                .map(|(_, _, rev, ago)| (format!("{}:{rev}", spec.name), self.ago(*ago)))
        };
        let ran_before = changed
            .as_ref()
            .and_then(|c| c.ran_before(spec, now))
            .or_else(history);
        Some(ServiceFacts {
            status,
            controller: if CODE_DEPLOY.contains(&(spec.cluster, spec.name)) {
                "CODE_DEPLOY"
            } else {
                "ECS"
            },
            task_definition: format!("{}:{revision}", spec.name),
            ran_before,
        })
    }

    /// An alarm's actions (`AlarmActions`, `OKActions`, `InsufficientDataActions`) and
    /// whether they are enabled; `None` if there is no such alarm.
    #[must_use]
    pub fn alarm_actions(&self, name: &str) -> Option<(Vec<String>, bool)> {
        if !super::ALARMS.iter().any(|a| a.name == name) {
            return None;
        }
        let actions = ALARM_ACTIONS
            .iter()
            .find(|(alarm, _)| *alarm == name)
            .map_or_else(
                || vec![PAGER.to_owned()],
                |(_, actions)| actions.iter().map(|a| (*a).to_owned()).collect(),
            );
        let enabled = self
            .acted()
            .actions_enabled
            .get(name)
            .copied()
            .unwrap_or(true);
        Some((actions, enabled))
    }

    /// Turns an alarm's actions on or off; the request id it was given.
    ///
    /// # Errors
    /// There is no such alarm.
    pub fn set_alarm_actions(&self, name: &str, enabled: bool) -> Result<String, DemoRefusal> {
        if !super::ALARMS.iter().any(|a| a.name == name) {
            return Err(DemoRefusal::NoAlarm(name.to_owned()));
        }
        let mut acted = self.acted();
        acted.actions_enabled.insert(name.to_owned(), enabled);
        Ok(acted.request_id())
    }

    /// Makes `change` to `service` now: a restart or a deploy rolls out over [`SETTLE`], a
    /// scale settles over it. The request id it was given.
    ///
    /// # Errors
    /// No such service, or a task definition the demo has not registered (another family,
    /// or a revision past the newest).
    pub fn change_service(
        &self,
        service: &ServiceRef,
        change: &DemoChange,
    ) -> Result<String, DemoRefusal> {
        let spec = self.spec(service).ok_or(DemoRefusal::NoService)?;
        let now = self.clock.now();
        // One lock over the read and the change, so two actions at once both count.
        let mut acted = self.acted();
        let changed = acted
            .services
            .entry(ServiceRef::new(spec.cluster, spec.name))
            .or_insert_with(|| {
                Changed::first(
                    spec,
                    &self.scenario_status(spec),
                    self.scenario_records(spec),
                    now,
                )
            });
        let current = changed.status(spec, now);
        let name = spec.name;
        let task = format!(
            "{:020x}",
            u128::from(super::hash(&format!("{name}{now:?}")))
        );
        match change {
            DemoChange::Restart | DemoChange::Deploy { .. } => {
                let revision = match change {
                    DemoChange::Deploy { task_definition } => {
                        revision_of(spec, task_definition, changed.revision)?
                    }
                    _ => changed.revision,
                };
                let from = current
                    .primary()
                    .cloned()
                    .unwrap_or_else(|| changed.primary.clone());
                let id = format!(
                    "ecs-svc/{}{}",
                    stable_digits(name),
                    4 + changed.deploys.len()
                );
                changed.deploys.push(Deploy {
                    id: id.clone(),
                    started: now,
                    revision,
                    from_id: from.id,
                    from_revision: changed.revision,
                    from_running: current.running,
                    from_created: from.created_at,
                });
                changed.revision = revision;
                changed.since = now;
                changed.running_then = current.running;
                let desired = changed.desired;
                changed.events.extend([
                    event(
                        now,
                        format!("(service {name}) has started {desired} tasks: (task {task})."),
                    ),
                    event(
                        now + SETTLE,
                        format!("(service {name}) (deployment {id}) deployment completed."),
                    ),
                    event(
                        now + SETTLE + Duration::from_secs(1),
                        format!("(service {name}) has reached a steady state."),
                    ),
                ]);
            }
            DemoChange::Scale { desired } => {
                let to = *desired;
                changed.desired = to;
                changed.since = now;
                changed.running_then = current.running;
                let message = if to >= current.running {
                    format!(
                        "(service {name}) has started {} tasks: (task {task}).",
                        to - current.running
                    )
                } else {
                    format!(
                        "(service {name}) has stopped {} running tasks: (task {task}).",
                        current.running - to
                    )
                };
                changed.events.extend([
                    event(now, message),
                    event(
                        now + SETTLE,
                        format!("(service {name}) has reached a steady state."),
                    ),
                ]);
            }
        }
        Ok(acted.request_id())
    }
}

/// The revision a `family:revision` names, if the demo has it registered.
fn revision_of(spec: &Spec, to: &str, current: u32) -> Result<u32, DemoRefusal> {
    let latest = current.max(spec.revision + 1);
    to.split_once(':')
        .filter(|(family, _)| *family == spec.name)
        .and_then(|(_, rev)| rev.parse::<u32>().ok())
        .filter(|rev| (1..=latest).contains(rev))
        .ok_or(DemoRefusal::NoTaskDefinition)
}
