//! The desk's guard rails, one by one, over a real store file and a counting effector:
//! every refusal makes zero writes; an executed action exactly one, whatever is
//! re-delivered or pressed twice. (The AWS effector itself is driven against moto in
//! `effect`; the channels' wire formats in `channels`.)

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use opsvoice::act::desk::{Answered, Asker, Desk, Params, Requested};
use opsvoice::act::effect::{
    AlarmNow, Applied, EffectError, Effector, Evidence, Previous, ServiceNow,
};
use opsvoice::act::record::{Change, Person, State};
use opsvoice::act::{Gate, Refusal, Target};
use opsvoice::auth::Principal;
use opsvoice::auth::policy::{Grants, Policy};
use opsvoice::clock::ManualClock;
use opsvoice::ops::{Deployment, DeploymentRole, OpsError, RolloutState, ServiceRef};
use opsvoice::store::Store;
use opsvoice::vocab::Verb;

const POLICY: &str = r#"
[actions]
enabled     = true
approval    = ["prod"]
channel     = "C0APPROVALS"
scale_max   = 10
silence_max = "2h"
per_service = 2

[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
actions  = ["restart", "rollback", "scale", "silence"]
approve  = ["restart", "rollback", "scale", "silence"]

[groups.viewers]
clusters = ["*"]
services = ["*"]
intents  = ["*"]

[groups.payments-team]
clusters = ["staging"]
services = ["payments*"]
intents  = ["*"]
actions  = ["restart"]
"#;

fn who(sub: &str, groups: &[&str]) -> Principal {
    Principal {
        sub: sub.to_owned(),
        username: sub.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

/// A fleet in memory whose every write is counted and whose state the test moves.
#[derive(Debug, Default)]
struct Fleet {
    writes: Mutex<Vec<String>>,
    taskdef: Mutex<String>,
    desired: Mutex<u32>,
    controller: Mutex<String>,
    previous: Mutex<Option<Previous>>,
    rolling: Mutex<bool>,
    alarm_actions: Mutex<Vec<String>>,
    alarm_enabled: Mutex<bool>,
    /// The next write's result: `None` succeeds.
    fail_next: Mutex<Option<&'static str>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap()
}

impl Fleet {
    fn new() -> Arc<Self> {
        let f = Self::default();
        *lock(&f.taskdef) = "checkout:42".to_owned();
        *lock(&f.desired) = 3;
        *lock(&f.controller) = "ECS".to_owned();
        *lock(&f.previous) = Some(Previous {
            task_definition: "checkout:41".to_owned(),
            ran_until: Some(1_800_000_000),
            evidence: Evidence::History,
        });
        *lock(&f.alarm_actions) = vec!["arn:aws:sns:eu-west-1:1:pager".to_owned()];
        *lock(&f.alarm_enabled) = true;
        Arc::new(f)
    }

    fn writes(&self) -> Vec<String> {
        lock(&self.writes).clone()
    }
}

#[async_trait::async_trait]
impl Effector for Fleet {
    async fn service(&self, target: &Target) -> Result<Option<ServiceNow>, OpsError> {
        let Some(service) = target.service_ref().cloned() else {
            return Ok(None);
        };
        if service.name == "ghost" {
            return Ok(None);
        }
        let rolling = *lock(&self.rolling);
        let taskdef = lock(&self.taskdef).clone();
        let desired = *lock(&self.desired);
        let controller = lock(&self.controller).clone();
        let previous = lock(&self.previous).clone();
        let primary = Deployment {
            id: "d1".to_owned(),
            role: DeploymentRole::Primary,
            rollout: if rolling {
                RolloutState::InProgress
            } else {
                RolloutState::Completed
            },
            rollout_reason: None,
            task_definition: taskdef.clone(),
            desired,
            running: desired,
            pending: 0,
            failed_tasks: 0,
            created_at: SystemTime::UNIX_EPOCH,
            updated_at: SystemTime::UNIX_EPOCH,
        };
        Ok(Some(ServiceNow {
            service,
            controller,
            task_definition: taskdef,
            desired,
            running: desired,
            deployments: vec![primary],
            previous,
        }))
    }

    async fn alarm(&self, target: &Target) -> Result<Option<AlarmNow>, OpsError> {
        let opsvoice::act::Subject::Alarm { alarm, .. } = &target.subject else {
            return Ok(None);
        };
        Ok(Some(AlarmNow {
            name: alarm.clone(),
            actions: lock(&self.alarm_actions).clone(),
            actions_enabled: *lock(&self.alarm_enabled),
        }))
    }

    async fn apply(
        &self,
        actor: &Person,
        target: &Target,
        change: &Change,
    ) -> Result<Applied, EffectError> {
        lock(&self.writes).push(format!("{}:{target}:{}", actor.username, change.verb()));
        if let Some(kind) = lock(&self.fail_next).take() {
            return Err(match kind {
                "unknown" => EffectError::Unknown {
                    system: "ECS",
                    source: "timed out".into(),
                },
                _ => EffectError::Refused {
                    system: "ECS",
                    message: "AccessDenied".to_owned(),
                },
            });
        }
        match change {
            Change::Scale { to, .. } => *lock(&self.desired) = *to,
            Change::Rollback { to, .. } => *lock(&self.taskdef) = to.clone(),
            Change::Restart { .. } => *lock(&self.rolling) = true,
            Change::Silence { .. } => *lock(&self.alarm_enabled) = false,
            Change::Unsilence => *lock(&self.alarm_enabled) = true,
        }
        Ok(Applied {
            request_id: format!("req-{}", self.writes().len()),
        })
    }

    async fn unsilence(&self, actor: &Person, target: &Target) -> Result<Applied, EffectError> {
        lock(&self.writes).push(format!("{}:{target}:enable", actor.username));
        *lock(&self.alarm_enabled) = true;
        Ok(Applied {
            request_id: "req-enable".to_owned(),
        })
    }
}

struct World {
    desk: Desk,
    store: Arc<dyn Store>,
    fleet: Arc<Fleet>,
    clock: Arc<ManualClock>,
    policy: Policy,
    _dir: tempfile::TempDir,
}

impl World {
    fn new(kill_switch: bool) -> Self {
        Self::with(kill_switch, None)
    }

    fn with(kill_switch: bool, announcer: Option<Arc<dyn opsvoice::act::desk::Announcer>>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        ));
        let store: Arc<dyn Store> = Arc::new(
            opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock.clone())
                .unwrap(),
        );
        let fleet = Fleet::new();
        let desk = Desk::new(
            store.clone(),
            clock.clone(),
            Gate::new(kill_switch),
            fleet.clone(),
            announcer,
        );
        Self {
            desk,
            store,
            fleet,
            clock,
            policy: Policy::from_toml(POLICY).unwrap(),
            _dir: dir,
        }
    }

    fn grants(&self, p: &Principal) -> Grants {
        self.policy.grants(Some(p))
    }

    async fn request(
        &self,
        p: &Principal,
        session: &str,
        verb: Verb,
        target: Target,
        params: Params,
    ) -> Requested {
        let grants = self.grants(p);
        let asker = Asker {
            principal: p,
            grants: &grants,
            session,
            origin: None,
        };
        self.desk
            .request(&asker, verb, target, params)
            .await
            .unwrap()
    }

    async fn answer(&self, p: &Principal, session: &str, id: &str, yes: bool) -> Answered {
        let grants = self.grants(p);
        let asker = Asker {
            principal: p,
            grants: &grants,
            session,
            origin: None,
        };
        self.desk.answer(id, &asker, yes).await
    }
}

fn staging(name: &str) -> Target {
    Target::service(ServiceRef::new("staging", name))
}

fn read_back(r: Requested) -> String {
    match r {
        Requested::ReadBack(record) => record.id().to_owned(),
        other => panic!("expected a read-back, got {other:?}"),
    }
}

#[tokio::test]
async fn a_confirmed_restart_writes_once_whatever_is_pressed_again() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    let id = read_back(
        w.request(
            &ana,
            "lex:s1",
            Verb::Restart,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    assert!(w.fleet.writes().is_empty(), "a read-back writes nothing");
    let first = w.answer(&ana, "lex:s1", &id, true).await;
    assert!(matches!(first, Answered::Started(_)), "{first:?}");
    // Lex re-delivers the yes; Slack retries; the user double-clicks.
    for _ in 0..3 {
        let again = w.answer(&ana, "lex:s1", &id, true).await;
        assert_eq!(again, Answered::NothingToConfirm);
    }
    assert_eq!(w.fleet.writes(), vec!["ana:staging/checkout:restart"]);
    let record = w.desk.ledger().get(&id).await.unwrap().unwrap();
    assert!(matches!(record.state(), State::Executed { .. }));
    // The tick follows it to the end.
    *lock(&w.fleet.rolling) = false;
    let ticked = w.desk.tick().await;
    assert_eq!(ticked.finished, 1);
    let record = w.desk.ledger().get(&id).await.unwrap().unwrap();
    assert!(matches!(record.state(), State::Finished { .. }));
    assert_eq!(w.fleet.writes().len(), 1);
}

#[tokio::test]
async fn a_yes_from_someone_else_or_another_session_does_nothing() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    let bob = who("bob", &["oncall"]);
    let id = read_back(
        w.request(
            &ana,
            "lex:s1",
            Verb::Restart,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    assert_eq!(
        w.answer(&bob, "lex:s1", &id, true).await,
        Answered::NothingToConfirm
    );
    assert_eq!(
        w.answer(&ana, "lex:s2", &id, true).await,
        Answered::NothingToConfirm
    );
    assert_eq!(
        w.answer(&ana, "lex:s1", "made-up", true).await,
        Answered::NothingToConfirm
    );
    assert!(w.fleet.writes().is_empty());
    // Her own yes still counts afterwards.
    assert!(matches!(
        w.answer(&ana, "lex:s1", &id, true).await,
        Answered::Started(_)
    ));
    assert_eq!(w.fleet.writes().len(), 1);
}

#[tokio::test]
async fn no_and_too_late_change_nothing() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    assert_eq!(w.answer(&ana, "s", &id, false).await, Answered::Cancelled);
    assert_eq!(
        w.answer(&ana, "s", &id, true).await,
        Answered::NothingToConfirm
    );
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    w.clock.advance(Duration::from_secs(121));
    assert_eq!(w.answer(&ana, "s", &id, true).await, Answered::Expired);
    // A read-back nobody answers is expired by the tick.
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    w.clock.advance(Duration::from_secs(121));
    assert_eq!(w.desk.tick().await.expired, 1);
    assert_eq!(
        w.desk.ledger().get(&id).await.unwrap().unwrap().state(),
        &State::Expired
    );
    assert!(w.fleet.writes().is_empty());
}

#[tokio::test]
async fn every_refusal_says_why_and_writes_nothing() {
    let ana = who("ana", &["oncall"]);
    let off = World::new(true);
    assert_eq!(
        off.request(
            &ana,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::KillSwitch)
    );
    let w = World::new(false);
    let viewer = who("val", &["viewers"]);
    assert_eq!(
        w.request(
            &viewer,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::NoGrant)
    );
    let payments = who("pat", &["payments-team"]);
    assert_eq!(
        w.request(
            &payments,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::Hidden),
        "a service outside the group's view is not even named"
    );
    assert_eq!(
        w.request(
            &payments,
            "s",
            Verb::Scale,
            staging("payments"),
            Params {
                count: Some(4),
                ..Params::default()
            }
        )
        .await,
        Requested::Refused(Refusal::NoGrant)
    );
    for count in [0, 11] {
        assert_eq!(
            w.request(
                &ana,
                "s",
                Verb::Scale,
                staging("checkout"),
                Params {
                    count: Some(count),
                    ..Params::default()
                }
            )
            .await,
            Requested::Refused(Refusal::OutOfBounds),
            "{count}"
        );
    }
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Scale,
            staging("checkout"),
            Params {
                count: Some(3),
                ..Params::default()
            }
        )
        .await,
        Requested::Refused(Refusal::NoChange)
    );
    *lock(&w.fleet.previous) = None;
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Rollback,
            staging("checkout"),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::NoEvidence)
    );
    *lock(&w.fleet.controller) = "CODE_DEPLOY".to_owned();
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::NotEcsController)
    );
    lock(&w.fleet.alarm_actions).push(
        "arn:aws:autoscaling:eu-west-1:1:scalingPolicy:x:autoScalingGroupName/g:policyName/up"
            .to_owned(),
    );
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Silence,
            Target::alarm("cpu-high", None),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::NotNotificationOnly)
    );
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            staging("ghost"),
            Params::default()
        )
        .await,
        Requested::Missing
    );
    assert!(w.fleet.writes().is_empty());
    // Each refusal is a durable record too: who asked for what, where, and why.
    let refused = |store: Arc<dyn Store>| async move {
        let mut reasons: Vec<(String, String, String)> = Vec::new();
        for (_, raw) in store
            .list(opsvoice::store::Prefix::REFUSED_ACTIONS)
            .await
            .unwrap()
        {
            let r: opsvoice::act::desk::RefusedRequest =
                opsvoice::store::record::decode(&raw).unwrap();
            assert_eq!(r.session, "s");
            reasons.push((r.by.username, r.verb.policy_name().to_owned(), r.reason));
        }
        reasons.sort();
        reasons
    };
    let row = |who: &str, verb: &str, why: &str| (who.to_owned(), verb.to_owned(), why.to_owned());
    assert_eq!(
        refused(off.store.clone()).await,
        vec![row("ana", "restart", "kill_switch")]
    );
    assert_eq!(
        refused(w.store.clone()).await,
        vec![
            row("ana", "restart", "not_ecs_controller"),
            row("ana", "rollback", "no_evidence"),
            row("ana", "scale", "no_change"),
            row("ana", "scale", "out_of_bounds"),
            row("ana", "scale", "out_of_bounds"),
            row("ana", "silence", "not_notification_only"),
            row("pat", "restart", "hidden"),
            row("pat", "scale", "no_grant"),
            row("val", "restart", "no_grant"),
        ]
    );
}

#[tokio::test]
async fn a_target_that_moved_since_the_read_back_is_refused_on_yes() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Rollback,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    *lock(&w.fleet.taskdef) = "checkout:43".to_owned(); // another deploy landed
    assert_eq!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Refused(Refusal::TargetChanged)
    );
    assert!(w.fleet.writes().is_empty());
}

#[tokio::test]
async fn the_per_service_limit_counts_executed_actions() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    for _ in 0..2 {
        let id = read_back(
            w.request(
                &ana,
                "s",
                Verb::Restart,
                staging("checkout"),
                Params::default(),
            )
            .await,
        );
        assert!(matches!(
            w.answer(&ana, "s", &id, true).await,
            Answered::Started(_)
        ));
        *lock(&w.fleet.rolling) = false;
    }
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    assert_eq!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Refused(Refusal::RateLimited)
    );
    assert_eq!(w.fleet.writes().len(), 2);
    // Another service has its own count; ten minutes later the first is free again.
    let id = read_back(
        w.request(&ana, "s", Verb::Restart, staging("cart"), Params::default())
            .await,
    );
    assert!(matches!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Started(_)
    ));
    w.clock.advance(Duration::from_secs(601));
    *lock(&w.fleet.rolling) = false;
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            staging("checkout"),
            Params::default(),
        )
        .await,
    );
    assert!(matches!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Started(_)
    ));
    assert_eq!(w.fleet.writes().len(), 4);
}

#[tokio::test]
async fn without_an_approval_channel_a_protected_cluster_acts_on_nothing() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Restart,
            Target::service(ServiceRef::new("prod", "checkout")),
            Params::default(),
        )
        .await,
    );
    // No Slack app (no announcer): the card cannot be posted, so nothing happens.
    assert_eq!(
        w.answer(&ana, "s", &id, true).await,
        Answered::ApprovalUnavailable
    );
    assert!(w.fleet.writes().is_empty());
}

#[tokio::test]
async fn aws_refusing_or_not_answering_ends_the_action_and_is_never_retried() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    *lock(&w.fleet.fail_next) = Some("refused");
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Scale,
            staging("checkout"),
            Params {
                count: Some(5),
                ..Params::default()
            },
        )
        .await,
    );
    assert!(matches!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Failed(_)
    ));
    *lock(&w.fleet.fail_next) = Some("unknown");
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Scale,
            staging("checkout"),
            Params {
                count: Some(6),
                ..Params::default()
            },
        )
        .await,
    );
    assert!(matches!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Unknown(_)
    ));
    w.desk.tick().await;
    w.clock.advance(Duration::from_secs(3600));
    w.desk.tick().await;
    assert_eq!(w.fleet.writes().len(), 2, "one attempt each, never retried");
}

#[tokio::test]
async fn a_silence_ends_on_time_and_only_turns_on_what_was_on() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    let alarm = Target::alarm("checkout-5xx", None);
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Silence,
            alarm.clone(),
            Params {
                duration: Some(Duration::from_secs(1800)),
                ..Params::default()
            },
        )
        .await,
    );
    assert!(matches!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Done(_)
    ));
    assert!(!*lock(&w.fleet.alarm_enabled));
    assert!(w.desk.silence_of(&alarm).await.is_some());
    w.clock.advance(Duration::from_secs(1799));
    assert_eq!(w.desk.tick().await.silences_ended, 0);
    w.clock.advance(Duration::from_secs(2));
    assert_eq!(w.desk.tick().await.silences_ended, 1);
    assert!(*lock(&w.fleet.alarm_enabled));
    assert_eq!(w.desk.tick().await.silences_ended, 0, "ended once");
    assert_eq!(w.fleet.writes().len(), 2);

    // Too long, and an alarm whose actions were already off stays off.
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Silence,
            alarm.clone(),
            Params {
                duration: Some(Duration::from_secs(3 * 3600)),
                ..Params::default()
            }
        )
        .await,
        Requested::Refused(Refusal::OutOfBounds)
    );
    *lock(&w.fleet.alarm_enabled) = false;
    let id = read_back(
        w.request(&ana, "s", Verb::Silence, alarm.clone(), Params::default())
            .await,
    );
    assert!(matches!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Done(_)
    ));
    w.clock.advance(Duration::from_secs(3601));
    assert_eq!(w.desk.tick().await.silences_ended, 1);
    assert!(
        !*lock(&w.fleet.alarm_enabled),
        "it was off before the silence"
    );
    assert_eq!(w.fleet.writes().len(), 3, "no enable call for it");
}

#[tokio::test]
async fn unsilence_ends_a_silence_early() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    let alarm = Target::alarm("checkout-5xx", None);
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Silence,
            alarm.clone(),
            Params {
                end: true,
                ..Params::default()
            }
        )
        .await,
        Requested::Refused(Refusal::NoChange),
        "nothing to end"
    );
    let id = read_back(
        w.request(&ana, "s", Verb::Silence, alarm.clone(), Params::default())
            .await,
    );
    w.answer(&ana, "s", &id, true).await;
    let id = read_back(
        w.request(
            &ana,
            "s",
            Verb::Silence,
            alarm.clone(),
            Params {
                end: true,
                ..Params::default()
            },
        )
        .await,
    );
    assert!(matches!(
        w.answer(&ana, "s", &id, true).await,
        Answered::Done(_)
    ));
    assert!(*lock(&w.fleet.alarm_enabled));
    assert!(w.desk.silence_of(&alarm).await.is_none());
    w.clock.advance(Duration::from_secs(7200));
    assert_eq!(w.desk.tick().await.silences_ended, 0);
    assert_eq!(w.fleet.writes().len(), 2);
}

/// The approval cards, over the Slack Web API stand-in (real HTTP, Slack's wire format).
async fn slack_world() -> (World, crate::common::slack_stub::SlackStub) {
    let slack = crate::common::slack_stub::SlackStub::start("xoxb-test").await;
    let api = opsvoice::channel::slack::api::WebApi::new(
        Some(&slack.base),
        Some(opsvoice::config::Secret::new("xoxb-test")),
    );
    let renderer = opsvoice::speech::Renderer::embedded(None).unwrap();
    let announcer = Arc::new(opsvoice::channel::slack::acting::SlackAnnouncer::new(
        api, renderer,
    ));
    (World::with(false, Some(announcer)), slack)
}

fn prod() -> Target {
    Target::service(ServiceRef::new("prod", "checkout"))
}

fn card_posts(
    slack: &crate::common::slack_stub::SlackStub,
) -> Vec<crate::common::slack_stub::Post> {
    slack
        .posts()
        .into_iter()
        .filter(|p| p.method == "chat.postMessage" || p.method == "chat.update")
        .collect()
}

#[tokio::test]
async fn a_protected_cluster_needs_someone_else_with_the_approve_grant() {
    let (w, slack) = slack_world().await;
    let ana = who("ana", &["oncall"]);
    let bob = who("bob", &["oncall"]);
    let val = who("val", &["viewers"]);
    let id = read_back(
        w.request(&ana, "s", Verb::Restart, prod(), Params::default())
            .await,
    );
    assert_eq!(
        w.answer(&ana, "s", &id, true).await,
        Answered::AwaitingApproval {
            channel: "C0APPROVALS".to_owned()
        }
    );
    assert!(w.fleet.writes().is_empty(), "nothing until approved");
    let posts = card_posts(&slack);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].body["channel"], "C0APPROVALS");
    let card = posts[0].body.to_string();
    assert!(
        card.contains("ana asks: Restart checkout in prod?"),
        "{card}"
    );
    assert!(
        card.contains("act-approve") && card.contains("act-deny"),
        "{card}"
    );

    // The requester, and someone without the approve grant, cannot approve.
    assert_eq!(
        w.desk.judge(&id, &ana, &w.grants(&ana), true).await,
        Answered::SelfApproval
    );
    assert_eq!(
        w.desk.judge(&id, &val, &w.grants(&val), true).await,
        Answered::NotAllowed
    );
    assert!(w.fleet.writes().is_empty());

    // Bob approves; a double click does nothing more.
    assert!(matches!(
        w.desk.judge(&id, &bob, &w.grants(&bob), true).await,
        Answered::Started(_)
    ));
    assert!(!matches!(
        w.desk.judge(&id, &bob, &w.grants(&bob), true).await,
        Answered::Started(_)
    ));
    assert_eq!(w.fleet.writes(), vec!["ana:prod/checkout:restart"]);
    let record = w.desk.ledger().get(&id).await.unwrap().unwrap();
    assert_eq!(record.approver().unwrap().username, "bob");
    // The card was updated in place: approved by bob, running; no buttons left.
    let updates: Vec<_> = card_posts(&slack)
        .into_iter()
        .filter(|p| p.method == "chat.update")
        .collect();
    assert!(!updates.is_empty());
    let last = updates.last().unwrap().body.to_string();
    assert!(last.contains("Approved by bob"), "{last}");
    assert!(!last.contains("act-approve"), "{last}");
    // Done: the card says so.
    *lock(&w.fleet.rolling) = false;
    w.desk.tick().await;
    let last = card_posts(&slack).last().unwrap().body.to_string();
    assert!(last.contains("Done at"), "{last}");
}

#[tokio::test]
async fn a_denied_or_expired_approval_changes_nothing_and_the_card_says_so() {
    let (w, slack) = slack_world().await;
    let ana = who("ana", &["oncall"]);
    let bob = who("bob", &["oncall"]);
    let id = read_back(
        w.request(&ana, "s", Verb::Restart, prod(), Params::default())
            .await,
    );
    w.answer(&ana, "s", &id, true).await;
    assert_eq!(
        w.desk.judge(&id, &bob, &w.grants(&bob), false).await,
        Answered::Rejected
    );
    let last = card_posts(&slack).last().unwrap().body.to_string();
    assert!(last.contains("Denied by bob"), "{last}");

    let id = read_back(
        w.request(&ana, "s", Verb::Restart, prod(), Params::default())
            .await,
    );
    w.answer(&ana, "s", &id, true).await;
    w.clock.advance(Duration::from_secs(601));
    assert_eq!(w.desk.tick().await.expired, 1);
    let last = card_posts(&slack).last().unwrap().body.to_string();
    assert!(last.contains("Expired"), "{last}");
    assert_eq!(
        w.desk.judge(&id, &bob, &w.grants(&bob), true).await,
        Answered::InProgress
    );
    assert!(w.fleet.writes().is_empty());
}

/// "Previous" with evidence from the history opsvoice keeps: a task definition it saw
/// the service run, never the family's revision below the current one.
#[tokio::test]
async fn the_history_opsvoice_keeps_is_evidence_for_a_rollback() {
    let w = World::new(false);
    let ana = who("ana", &["oncall"]);
    *lock(&w.fleet.previous) = None;
    *lock(&w.fleet.taskdef) = "checkout:41".to_owned();
    // Never seen anything before: no evidence, even though checkout:40 surely exists.
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Rollback,
            staging("checkout"),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::NoEvidence)
    );
    // An hour later a deploy has landed checkout:42.
    w.clock.advance(Duration::from_secs(3600));
    *lock(&w.fleet.taskdef) = "checkout:42".to_owned();
    let Requested::ReadBack(record) = w
        .request(
            &ana,
            "s",
            Verb::Rollback,
            staging("checkout"),
            Params::default(),
        )
        .await
    else {
        panic!("expected a read-back");
    };
    match record.change() {
        Change::Rollback {
            from,
            to,
            ran_until,
        } => {
            assert_eq!((from.as_str(), to.as_str()), ("checkout:42", "checkout:41"));
            assert_eq!(*ran_until, Some(1_800_000_000), "last seen running then");
        }
        other => panic!("{other:?}"),
    }
    // A deployment still rolling out is not evidence of anything.
    *lock(&w.fleet.taskdef) = "checkout:43".to_owned();
    *lock(&w.fleet.rolling) = true;
    assert_eq!(
        w.request(
            &ana,
            "s",
            Verb::Rollback,
            staging("checkout"),
            Params::default()
        )
        .await,
        Requested::Refused(Refusal::NoEvidence)
    );
    assert!(w.fleet.writes().is_empty());
}

/// "What did I miss?" tells an ended action: who, what, approved by whom, and how it ended.
#[tokio::test]
async fn what_did_i_miss_names_who_did_what_and_how_it_ended() {
    let (w, _slack) = slack_world().await;
    let ana = who("ana", &["oncall"]);
    let bob = who("bob", &["oncall"]);
    let id = read_back(
        w.request(&ana, "s", Verb::Restart, prod(), Params::default())
            .await,
    );
    w.answer(&ana, "s", &id, true).await;
    assert!(matches!(
        w.desk.judge(&id, &bob, &w.grants(&bob), true).await,
        Answered::Started(_)
    ));
    w.clock.advance(Duration::from_secs(180));
    *lock(&w.fleet.rolling) = false;
    assert_eq!(w.desk.tick().await.finished, 1);
    let clock: Arc<dyn opsvoice::clock::Clock> = w.clock.clone();
    let answer =
        crate::common::ask_with_log(clock.clone(), w.store.clone(), "what did I miss?").await;
    assert!(
        answer
            .text
            .contains("ana restarted checkout in prod, approved by bob; it finished at"),
        "{}",
        answer.text
    );
    // "Who restarted checkout?" is a question about its deployment; its answer says who.
    let answer =
        crate::common::ask_with_log(clock, w.store.clone(), "who restarted checkout").await;
    assert_eq!(answer.intent, "DeploymentStatus", "{}", answer.text);
    assert!(
        answer
            .text
            .contains("ana restarted checkout in prod, approved by bob; it finished at"),
        "{}",
        answer.text
    );
}
