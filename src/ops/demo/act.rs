//! Acting on the demo fleet with no AWS: [`DemoEffector`] changes what every clone of the
//! [`DemoFleet`] shows, by the demo's clock.
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
use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{DemoFleet, HOUR, MINUTE, Spec, stable_digits};
use crate::act::effect::{
    AlarmNow, Applied, EffectError, Effector, Evidence, Previous, ServiceNow,
};
use crate::act::record::{Change, Person};
use crate::act::{Subject, Target};
use crate::ops::{
    Deployment, DeploymentOutcome, DeploymentRecord, DeploymentRole, OpsError, RolloutState,
    ServiceEvent, ServiceRef, ServiceStatus,
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
    /// started: the newest that moved it from another revision, once it completed.
    fn previous(&self, spec: &Spec, now: SystemTime) -> Option<Previous> {
        self.deploys
            .iter()
            .rev()
            .find(|d| d.from_revision != d.revision)
            .filter(|d| d.revision == self.revision && d.done() <= now)
            .map(|d| Previous {
                task_definition: format!("{}:{}", spec.name, d.from_revision),
                ran_until: Some(crate::store::epoch(d.done())),
                evidence: Evidence::History,
            })
    }
}

impl DemoFleet {
    /// The effector acting on this fleet: what it changes, this fleet and every clone of
    /// it show from then on.
    #[must_use]
    pub fn effector(&self) -> Arc<dyn Effector> {
        Arc::new(DemoEffector {
            fleet: self.clone(),
        })
    }

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

    /// The service as the verbs need it.
    fn service_now(&self, spec: &Spec) -> ServiceNow {
        let now = self.clock.now();
        let changed = self
            .acted()
            .services
            .get(&ServiceRef::new(spec.cluster, spec.name))
            .cloned();
        let status = match &changed {
            Some(c) => c.status(spec, now),
            None => self.scenario_status(spec),
        };
        let revision = changed.as_ref().map_or(spec.revision, |c| c.revision);
        let task_definition = format!("{}:{revision}", spec.name);
        let mut deployments = status.deployments;
        deployments.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        let history = || {
            HISTORY
                .iter()
                .find(|(c, n, ..)| *c == spec.cluster && *n == spec.name)
                .map(|(_, _, rev, ago)| Previous {
                    task_definition: format!("{}:{rev}", spec.name),
                    ran_until: Some(crate::store::epoch(self.ago(*ago))),
                    evidence: Evidence::History,
                })
        };
        let previous = Previous::from_deployments(&task_definition, &deployments)
            .or_else(|| changed.as_ref().and_then(|c| c.previous(spec, now)))
            .or_else(history);
        let controller = if CODE_DEPLOY.contains(&(spec.cluster, spec.name)) {
            "CODE_DEPLOY"
        } else {
            "ECS"
        };
        ServiceNow {
            service: status.service,
            controller: controller.to_owned(),
            task_definition,
            desired: status.desired,
            running: status.running,
            deployments,
            previous,
        }
    }

    /// Takes `change` on `spec`'s service now; the request id it was given.
    fn change_service(&self, spec: &Spec, change: &Change) -> Result<String, EffectError> {
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
            Change::Restart { .. } | Change::Rollback { .. } => {
                let revision = match change {
                    Change::Rollback { to, .. } => revision_of(spec, to, changed.revision)?,
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
            Change::Scale { to, .. } => {
                let to = *to;
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
            Change::Silence { .. } | Change::Unsilence => {
                return Err(mismatch("ECS", change));
            }
        }
        Ok(acted.request_id())
    }
}

/// The revision a rollback's `family:revision` names, if the demo has it registered.
fn revision_of(spec: &Spec, to: &str, current: u32) -> Result<u32, EffectError> {
    let latest = current.max(spec.revision + 1);
    to.split_once(':')
        .filter(|(family, _)| *family == spec.name)
        .and_then(|(_, rev)| rev.parse::<u32>().ok())
        .filter(|rev| (1..=latest).contains(rev))
        .ok_or_else(|| EffectError::Refused {
            system: "ECS",
            message: "ClientException: Unable to describe task definition.".to_owned(),
        })
}

fn mismatch(system: &'static str, change: &Change) -> EffectError {
    EffectError::Refused {
        system,
        message: format!("a {} does not apply here", change.verb().spoken()),
    }
}

/// The [`Effector`] of the demo fleet: no AWS, the same promises (one change per call,
/// request ids `demo-1`, `demo-2`…), its effects shown by the fleet it came from.
#[derive(Debug, Clone)]
pub struct DemoEffector {
    fleet: DemoFleet,
}

#[async_trait]
impl Effector for DemoEffector {
    async fn service(&self, target: &Target) -> Result<Option<ServiceNow>, OpsError> {
        let Subject::Service { service } = &target.subject else {
            return Ok(None);
        };
        if target.account.is_some() {
            return Ok(None);
        }
        Ok(self
            .fleet
            .spec(service)
            .map(|spec| self.fleet.service_now(spec)))
    }

    async fn alarm(&self, target: &Target) -> Result<Option<AlarmNow>, OpsError> {
        let Subject::Alarm { alarm, .. } = &target.subject else {
            return Ok(None);
        };
        if target.account.is_some() || !super::ALARMS.iter().any(|a| a.name == alarm) {
            return Ok(None);
        }
        let actions = ALARM_ACTIONS
            .iter()
            .find(|(name, _)| name == alarm)
            .map_or_else(
                || vec![PAGER.to_owned()],
                |(_, actions)| actions.iter().map(|a| (*a).to_owned()).collect(),
            );
        let actions_enabled = self
            .fleet
            .acted()
            .actions_enabled
            .get(alarm)
            .copied()
            .unwrap_or(true);
        Ok(Some(AlarmNow {
            name: alarm.clone(),
            actions,
            actions_enabled,
        }))
    }

    async fn apply(
        &self,
        _actor: &Person,
        target: &Target,
        change: &Change,
    ) -> Result<Applied, EffectError> {
        let elsewhere = |system| EffectError::Refused {
            system,
            message: "the demo fleet has one account".to_owned(),
        };
        let request_id = match &target.subject {
            Subject::Service { service } => {
                if target.account.is_some() {
                    return Err(elsewhere("ECS"));
                }
                let spec = self
                    .fleet
                    .spec(service)
                    .ok_or_else(|| EffectError::Refused {
                        system: "ECS",
                        message: "ServiceNotFoundException: Service not found.".to_owned(),
                    })?;
                self.fleet.change_service(spec, change)?
            }
            Subject::Alarm { alarm, .. } => {
                if target.account.is_some() {
                    return Err(elsewhere("CloudWatch"));
                }
                let enable = match change {
                    Change::Silence { .. } => false,
                    Change::Unsilence => true,
                    _ => return Err(mismatch("CloudWatch", change)),
                };
                if !super::ALARMS.iter().any(|a| a.name == alarm) {
                    return Err(EffectError::Refused {
                        system: "CloudWatch",
                        message: format!("ResourceNotFound: no alarm named {alarm}"),
                    });
                }
                let mut acted = self.fleet.acted();
                acted.actions_enabled.insert(alarm.clone(), enable);
                acted.request_id()
            }
        };
        Ok(Applied { request_id })
    }

    async fn unsilence(&self, actor: &Person, target: &Target) -> Result<Applied, EffectError> {
        self.apply(actor, target, &Change::Unsilence).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ops::{ManualClock, OpsSource};

    const START: u64 = 1_795_000_000;

    fn fleet() -> (DemoFleet, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(START),
        ));
        (DemoFleet::new(clock.clone()), clock)
    }

    fn svc(cluster: &str, name: &str) -> Target {
        Target::service(ServiceRef::new(cluster, name))
    }

    fn alice() -> Person {
        Person {
            sub: "4f2c8a1e-9b7d-4e3a-8c6f-1d2e3f4a5b6c".into(),
            username: "alice".into(),
        }
    }

    async fn now_of(effector: &Arc<dyn Effector>, target: &Target) -> ServiceNow {
        effector.service(target).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn each_service_has_its_evidence_or_none_and_its_controller() {
        let (fleet, _) = fleet();
        let effector = fleet.effector();
        let checkout = now_of(&effector, &svc("prod", "checkout")).await;
        assert_eq!(checkout.controller, "ECS");
        assert_eq!(checkout.task_definition, "checkout:42");
        assert_eq!((checkout.desired, checkout.running), (3, 2));
        assert_eq!(
            checkout.previous,
            Some(Previous {
                task_definition: "checkout:41".into(),
                ran_until: Some(i64::try_from(START - 44 * MINUTE).unwrap()),
                evidence: Evidence::History,
            })
        );
        // Mid-rollout: the older deployment ECS still lists, still running.
        let payments_api = now_of(&effector, &svc("prod", "payments-api")).await;
        assert!(payments_api.rolling());
        assert_eq!(
            payments_api.previous,
            Some(Previous {
                task_definition: "payments-api:87".into(),
                ran_until: None,
                evidence: Evidence::OlderDeployment,
            })
        );
        // No evidence at all: a rollback has nothing to go back to.
        assert_eq!(
            now_of(&effector, &svc("prod", "shipping")).await.previous,
            None
        );
        let gateway = now_of(&effector, &svc("platform", "gateway")).await;
        assert_eq!(gateway.controller, "CODE_DEPLOY");
        assert!(
            effector
                .service(&svc("prod", "nope"))
                .await
                .unwrap()
                .is_none()
        );
        let alarm = Target::alarm("checkout-p99-latency-high", None);
        assert!(effector.service(&alarm).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn alarms_notify_except_the_one_that_scales() {
        let (fleet, _) = fleet();
        let effector = fleet.effector();
        let pages = effector
            .alarm(&Target::alarm("checkout-p99-latency-high", None))
            .await
            .unwrap()
            .unwrap();
        assert!(pages.notification_only() && pages.actions_enabled);
        let scales = effector
            .alarm(&Target::alarm("ml-scoring-cpu-high", None))
            .await
            .unwrap()
            .unwrap();
        assert!(!scales.notification_only());
        assert!(
            scales
                .actions
                .iter()
                .any(|a| a.starts_with("arn:aws:autoscaling:"))
        );
        assert!(
            effector
                .alarm(&Target::alarm("nope", None))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_restart_rolls_out_and_completes_after_settling() {
        let (fleet, clock) = fleet();
        let effector = fleet.effector();
        let target = svc("prod", "checkout");
        let before = fleet
            .service(&ServiceRef::new("prod", "checkout"))
            .await
            .unwrap()
            .unwrap();
        let applied = effector
            .apply(&alice(), &target, &Change::Restart { running: 2 })
            .await
            .unwrap();
        assert_eq!(applied.request_id, "demo-1");
        let rolling = now_of(&effector, &target).await;
        assert!(rolling.rolling());
        assert_eq!(rolling.deployments.len(), 2);
        assert_eq!(rolling.deployments[0].rollout, RolloutState::InProgress);
        assert_eq!(rolling.deployments[0].task_definition, "checkout:42");
        assert_eq!(rolling.deployments[1].task_definition, "checkout:42");
        // Evidence is unchanged by a restart: the same revision runs on both sides.
        assert_eq!(rolling.previous.unwrap().task_definition, "checkout:41");
        // The fleet itself shows it (what every answer reads), through any clone.
        let status = fleet
            .clone()
            .service(&ServiceRef::new("prod", "checkout"))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(status, before);
        assert_eq!(status.primary().unwrap().rollout, RolloutState::InProgress);
        let history = fleet
            .service_deployments(&ServiceRef::new("prod", "checkout"))
            .await
            .unwrap();
        assert_eq!(history[0].outcome, DeploymentOutcome::InProgress);

        clock.advance(SETTLE);
        let done = now_of(&effector, &target).await;
        assert!(!done.rolling());
        assert_eq!((done.desired, done.running), (3, 3));
        // ECS says "steady state" a moment after the deployment completes.
        clock.advance(Duration::from_secs(1));
        let status = fleet
            .service(&ServiceRef::new("prod", "checkout"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            status.events[0].message,
            "(service checkout) has reached a steady state."
        );
        let history = fleet
            .service_deployments(&ServiceRef::new("prod", "checkout"))
            .await
            .unwrap();
        assert_eq!(history[0].outcome, DeploymentOutcome::Succeeded);
        let again = effector
            .apply(&alice(), &target, &Change::Restart { running: 3 })
            .await
            .unwrap();
        assert_eq!(again.request_id, "demo-2");
    }

    #[tokio::test]
    async fn a_rollback_moves_the_primary_and_the_old_revision_becomes_the_evidence() {
        let (fleet, clock) = fleet();
        let effector = fleet.effector();
        let target = svc("prod", "checkout");
        let rollback = Change::Rollback {
            from: "checkout:42".into(),
            to: "checkout:41".into(),
            ran_until: None,
        };
        effector.apply(&alice(), &target, &rollback).await.unwrap();
        let rolling = now_of(&effector, &target).await;
        assert_eq!(rolling.task_definition, "checkout:41");
        // While :42's tasks drain, ECS still lists it.
        assert_eq!(
            rolling.previous,
            Some(Previous {
                task_definition: "checkout:42".into(),
                ran_until: None,
                evidence: Evidence::OlderDeployment,
            })
        );
        clock.advance(SETTLE + Duration::from_secs(5));
        let done = now_of(&effector, &target).await;
        assert_eq!(done.deployments.len(), 1);
        assert_eq!(done.deployments[0].task_definition, "checkout:41");
        assert_eq!(
            done.previous,
            Some(Previous {
                task_definition: "checkout:42".into(),
                ran_until: Some(i64::try_from(START + SETTLE.as_secs()).unwrap()),
                evidence: Evidence::History,
            })
        );
    }

    #[tokio::test]
    async fn a_scale_changes_desired_and_running_follows() {
        let (fleet, clock) = fleet();
        let effector = fleet.effector();
        let target = svc("prod", "cart");
        effector
            .apply(&alice(), &target, &Change::Scale { from: 3, to: 6 })
            .await
            .unwrap();
        let now = now_of(&effector, &target).await;
        assert_eq!((now.desired, now.running), (6, 3));
        assert!(!now.rolling(), "a scale is no deployment");
        clock.advance(SETTLE / 3);
        let now = now_of(&effector, &target).await;
        assert_eq!((now.desired, now.running), (6, 4));
        clock.advance(SETTLE);
        let now = now_of(&effector, &target).await;
        assert_eq!((now.desired, now.running), (6, 6));
        effector
            .apply(&alice(), &target, &Change::Scale { from: 6, to: 2 })
            .await
            .unwrap();
        clock.advance(SETTLE);
        let now = now_of(&effector, &target).await;
        assert_eq!((now.desired, now.running), (2, 2));
    }

    #[tokio::test]
    async fn a_silence_turns_the_alarm_s_actions_off_and_unsilence_on() {
        let (fleet, _) = fleet();
        let effector = fleet.effector();
        let target = Target::alarm("checkout-p99-latency-high", None);
        let enabled = |e: Arc<dyn Effector>| async move {
            e.alarm(&Target::alarm("checkout-p99-latency-high", None))
                .await
                .unwrap()
                .unwrap()
                .actions_enabled
        };
        effector
            .apply(
                &alice(),
                &target,
                &Change::Silence {
                    until: 0,
                    actions_were_enabled: true,
                },
            )
            .await
            .unwrap();
        assert!(!enabled(effector.clone()).await);
        assert!(
            !enabled(fleet.effector()).await,
            "shared with every effector"
        );
        effector.unsilence(&alice(), &target).await.unwrap();
        assert!(enabled(effector.clone()).await);
    }

    #[tokio::test]
    async fn what_was_not_acted_on_answers_as_before() {
        let (fleet, clock) = fleet();
        let untouched = DemoFleet::new(clock.clone());
        fleet
            .effector()
            .apply(
                &alice(),
                &svc("prod", "checkout"),
                &Change::Restart { running: 2 },
            )
            .await
            .unwrap();
        for cluster in ["prod", "platform", "data"] {
            let acted = fleet.services(cluster).await.unwrap();
            let before = untouched.services(cluster).await.unwrap();
            for (a, b) in acted.iter().zip(&before) {
                if a.service.name != "checkout" {
                    assert_eq!(a, b, "{}", a.service);
                }
            }
        }
        assert_eq!(
            fleet.firing_alarms().await.unwrap(),
            untouched.firing_alarms().await.unwrap()
        );
    }

    #[tokio::test]
    async fn what_ecs_or_cloudwatch_would_refuse_is_refused_and_changes_nothing() {
        let (fleet, _) = fleet();
        let effector = fleet.effector();
        let refused =
            |r: Result<Applied, EffectError>| matches!(r, Err(EffectError::Refused { .. }));
        let checkout = svc("prod", "checkout");
        for to in ["checkout:99", "cart:41", "checkout", "checkout:0"] {
            let change = Change::Rollback {
                from: "checkout:42".into(),
                to: to.into(),
                ran_until: None,
            };
            assert!(
                refused(effector.apply(&alice(), &checkout, &change).await),
                "{to}"
            );
        }
        assert!(refused(
            effector
                .apply(
                    &alice(),
                    &svc("prod", "nope"),
                    &Change::Restart { running: 1 }
                )
                .await
        ));
        assert!(refused(
            effector
                .apply(&alice(), &checkout, &Change::Unsilence)
                .await
        ));
        let alarm = Target::alarm("checkout-p99-latency-high", None);
        assert!(refused(
            effector
                .apply(&alice(), &alarm, &Change::Restart { running: 1 })
                .await
        ));
        assert!(refused(
            effector
                .unsilence(&alice(), &Target::alarm("nope", None))
                .await
        ));
        let elsewhere = Target {
            account: Some("staging".into()),
            ..checkout.clone()
        };
        assert!(refused(
            effector
                .apply(&alice(), &elsewhere, &Change::Restart { running: 1 })
                .await
        ));
        assert!(!now_of(&effector, &checkout).await.rolling());
        // Nothing was taken, so no request id was handed out.
        let first = effector
            .apply(&alice(), &checkout, &Change::Restart { running: 2 })
            .await
            .unwrap();
        assert_eq!(first.request_id, "demo-1");
    }
}
