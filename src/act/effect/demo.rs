//! Acting on the demo fleet, with no AWS: [`DemoEffector`] reads and changes the
//! [`DemoFleet`] it came from, so every answer from that fleet (and its clones) shows what
//! it did: a restart or a rollback rolls out and completes after
//! [`SETTLE`](crate::ops::demo::SETTLE) by the demo's clock, a scale settles, a silence
//! turns the alarm's actions off. Request ids are `demo-1`, `demo-2`…

use std::sync::Arc;

use async_trait::async_trait;

use super::{AlarmNow, Applied, EffectError, Effector, Evidence, Previous, ServiceNow};
use crate::act::record::{Change, Person};
use crate::act::{Subject, Target};
use crate::ops::OpsError;
use crate::ops::demo::{DemoChange, DemoFleet};

/// The [`Effector`] of the demo fleet: the same promises as the AWS one (one change per
/// call, refusals in ECS's and CloudWatch's words), its effects shown by the fleet.
#[derive(Debug, Clone)]
pub struct DemoEffector {
    fleet: DemoFleet,
}

impl DemoEffector {
    /// An effector on `fleet` (a clone shares its state, so the one `serve` answers from
    /// shows what this one does).
    #[must_use]
    pub fn new(fleet: DemoFleet) -> Self {
        Self { fleet }
    }
}

// Defined here, not with the fleet: the fleet sits below acting and knows nothing of it.
impl DemoFleet {
    /// The effector acting on this fleet: what it changes, this fleet and every clone of
    /// it show from then on.
    #[must_use]
    pub fn effector(&self) -> Arc<dyn Effector> {
        Arc::new(DemoEffector::new(self.clone()))
    }
}

fn refused(system: &'static str, message: impl ToString) -> EffectError {
    EffectError::Refused {
        system,
        message: message.to_string(),
    }
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
        Ok(self.fleet.service_facts(service).map(|facts| {
            let mut deployments = facts.status.deployments;
            deployments.sort_by_key(|d| std::cmp::Reverse(d.created_at));
            // ECS's own evidence first, as on AWS; then the demo's records.
            let previous = Previous::from_deployments(&facts.task_definition, &deployments)
                .or_else(|| {
                    facts.ran_before.map(|(task_definition, until)| Previous {
                        task_definition,
                        ran_until: Some(crate::store::epoch(until)),
                        evidence: Evidence::History,
                    })
                });
            ServiceNow {
                service: facts.status.service,
                controller: facts.controller.to_owned(),
                task_definition: facts.task_definition,
                desired: facts.status.desired,
                running: facts.status.running,
                deployments,
                previous,
            }
        }))
    }

    async fn alarm(&self, target: &Target) -> Result<Option<AlarmNow>, OpsError> {
        let Subject::Alarm { alarm, .. } = &target.subject else {
            return Ok(None);
        };
        if target.account.is_some() {
            return Ok(None);
        }
        Ok(self
            .fleet
            .alarm_actions(alarm)
            .map(|(actions, actions_enabled)| AlarmNow {
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
        let request_id = match &target.subject {
            Subject::Service { service } => {
                if target.account.is_some() {
                    return Err(refused("ECS", "the demo fleet has one account"));
                }
                let change = match change {
                    Change::Restart { .. } => DemoChange::Restart,
                    Change::Rollback { to, .. } => DemoChange::Deploy {
                        task_definition: to.clone(),
                    },
                    Change::Scale { to, .. } => DemoChange::Scale { desired: *to },
                    Change::Silence { .. } | Change::Unsilence => {
                        return Err(refused("ECS", "a silence is of an alarm"));
                    }
                };
                self.fleet
                    .change_service(service, &change)
                    .map_err(|e| refused("ECS", e))?
            }
            Subject::Alarm { alarm, .. } => {
                if target.account.is_some() {
                    return Err(refused("CloudWatch", "the demo fleet has one account"));
                }
                let enabled = match change {
                    Change::Silence { .. } => false,
                    Change::Unsilence => true,
                    _ => {
                        return Err(refused(
                            "CloudWatch",
                            format!("a {} is of a service", change.verb().spoken()),
                        ));
                    }
                };
                self.fleet
                    .set_alarm_actions(alarm, enabled)
                    .map_err(|e| refused("CloudWatch", e))?
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

    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::ops::demo::SETTLE;
    use crate::ops::{DeploymentOutcome, ManualClock, OpsSource, RolloutState, ServiceRef};

    const START: u64 = 1_795_000_000;
    const MINUTE: u64 = 60;

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
