//! Acting, first slice (issue 31): the policy's `[actions]` keys and per-group verbs, who may
//! act and approve on what, the kill switch, `check` refusing approval without the Slack
//! app, and the action record: its steps, its expiry on a manual clock, its audit events,
//! and the claim that two racing instances cannot both win, on both real stores.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opsvoice::act::ledger::{Claim, Ledger, LedgerError};
use opsvoice::act::record::{ActionRecord, Change, Outcome, PENDING_TTL, Person, State, StepError};
use opsvoice::act::{Gate, Refusal, Target};
use opsvoice::auth::Principal;
use opsvoice::auth::policy::{ActionSettings, Policy};
use opsvoice::ops::{Clock, ManualClock, ServiceRef};
use opsvoice::store::Store;
use opsvoice::vocab::Verb;

use crate::common;
use crate::common::moto::Moto;

/// DESIGN §7's policy example, with the groups of the README's example and two more.
const POLICY: &str = r#"
[actions]
enabled     = true
approval    = ["prod", "acme/staging"]
channel     = "C0APPROVALS"
approval_ttl = "15m"
scale_max   = 12
silence_max = "2h"
per_service = 5

[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
actions  = ["restart", "rollback", "scale", "silence"]
approve  = ["restart", "rollback", "scale", "silence"]

[groups.conference-room]
clusters = ["prod"]
services = ["*"]
intents  = ["FleetSummary", "ActiveAlarms", "ServiceHealth"]

[groups.payments-team]
clusters = ["prod", "staging"]
services = ["payments*"]
intents  = ["*"]
actions  = ["restart"]

[groups.staging-hands]
clusters = ["staging"]
services = ["*"]
intents  = ["*"]
accounts = ["dev"]
actions  = ["scale"]
approve  = ["scale"]
"#;

fn who(sub: &str, groups: &[&str]) -> Principal {
    Principal {
        sub: sub.to_owned(),
        username: sub.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn svc(cluster: &str, name: &str) -> ServiceRef {
    ServiceRef::new(cluster, name)
}

fn policy_error(text: &str) -> String {
    Policy::from_toml(text).unwrap_err().to_string()
}

#[test]
fn the_actions_table_is_read_with_every_key_and_its_defaults() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let a = policy.actions();
    assert!(a.enabled);
    assert_eq!(a.approval, ["prod", "acme/staging"]);
    assert_eq!(a.channel.as_deref(), Some("C0APPROVALS"));
    assert_eq!(a.approval_ttl, Duration::from_secs(15 * 60));
    assert_eq!(a.scale_max, 12);
    assert_eq!(a.silence_max, Duration::from_secs(2 * 3600));
    assert_eq!(a.per_service, 5);
    assert!(a.approval_required());
    assert!(a.needs_approval(None, "prod"));
    assert!(!a.needs_approval(None, "staging"));
    assert!(
        a.needs_approval(Some("acme"), "staging"),
        "account/cluster glob"
    );
    assert!(!a.needs_approval(Some("other"), "staging"));

    let defaults = Policy::from_toml("[actions]\nenabled = true\n").unwrap();
    let d = defaults.actions();
    assert!(d.enabled && d.approval.is_empty() && d.channel.is_none());
    assert_eq!(d.approval_ttl, Duration::from_secs(600));
    assert_eq!(d.scale_max, 20);
    assert_eq!(d.silence_max, Duration::from_secs(4 * 3600));
    assert_eq!(d.per_service, 3);
    assert!(!Policy::from_toml("[actions]\n").unwrap().actions().enabled);
}

#[test]
fn an_old_policy_file_reads_as_before_and_grants_no_verb() {
    // The README's example before issue 31: no `[actions]`, no verbs.
    let old = "[groups.oncall]\nclusters = [\"*\"]\nservices = [\"*\"]\nintents = [\"*\"]\n";
    let policy = Policy::from_toml(old).unwrap();
    assert!(!policy.actions().enabled);
    let grants = policy.grants(Some(&who("ana", &["oncall"])));
    let checkout = svc("prod", "checkout");
    assert!(grants.service(opsvoice::vocab::Intent::ServiceHealth, &checkout));
    assert!(grants.sees(None, Some(&checkout)));
    for verb in Verb::ALL {
        assert!(!grants.may_act(verb, None, Some(&checkout)), "{verb}");
        assert!(!grants.may_approve(verb, None, Some(&checkout)), "{verb}");
    }
    // Verbs granted but `enabled = false`: still nothing.
    let off = POLICY.replace("enabled     = true", "enabled = false");
    let grants = Policy::from_toml(&off)
        .unwrap()
        .grants(Some(&who("ana", &["oncall"])));
    assert!(!grants.may_act(Verb::Restart, None, Some(&checkout)));
    assert!(grants.actions().is_none());
}

#[test]
fn the_shipped_policy_gives_the_conference_room_no_verb_and_leaves_actions_off() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/policy.toml")).unwrap();
    let policy = Policy::from_toml(&text).unwrap();
    assert!(
        !policy.actions().enabled,
        "off until an operator enables it"
    );
    // Even enabled, the conference room gets nothing.
    let enabled = Policy::from_toml(&text.replace("enabled = false", "enabled = true")).unwrap();
    assert!(enabled.actions().enabled);
    let room = enabled.group_grants("conference-room");
    let oncall = enabled.group_grants("oncall");
    let checkout = svc("prod", "checkout");
    for verb in Verb::ALL {
        assert!(!room.may_act(verb, None, Some(&checkout)), "{verb}");
        assert!(!room.may_approve(verb, None, Some(&checkout)), "{verb}");
        assert!(oncall.may_act(verb, None, Some(&checkout)), "{verb}");
    }
}

#[test]
fn each_bad_actions_key_is_refused_with_a_message_naming_it() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[actions]\nenabled = true\napproval = [\"prod\"]\n",
            &["`channel`", "required when `approval` is set"],
        ),
        (
            "[actions]\napproval = [\"prod\"]\nchannel = \"approvals\"\n",
            &["`channel`", "`approvals` is not a Slack channel id"],
        ),
        (
            "[actions]\napproval_ttl = \"10 minutes\"\n",
            &["`approval_ttl`", "`10 minutes` is not a duration"],
        ),
        (
            "[actions]\napproval_ttl = \"30s\"\n",
            &["`approval_ttl`", "out of bounds: between 1m and 24h"],
        ),
        (
            "[actions]\napproval_ttl = \"2d\"\n",
            &["`approval_ttl`", "not a duration"],
        ),
        (
            "[actions]\nsilence_max = \"48h\"\n",
            &["`silence_max`", "out of bounds"],
        ),
        (
            "[actions]\nsilence_max = \"0m\"\n",
            &["`silence_max`", "not a duration"],
        ),
        (
            "[actions]\nscale_max = 0\n",
            &["`scale_max`", "0 is not a whole number of at least 1"],
        ),
        (
            "[actions]\nper_service = -2\n",
            &["`per_service`", "at least 1"],
        ),
        (
            "[actions]\napproval = [\"[\"]\nchannel = \"C0APPROVALS\"\n",
            &["[actions] `approval`", "`[` is not a valid glob"],
        ),
        ("[actions]\nenable = true\n", &["enable"]),
        (
            "[groups.x]\nactions = [\"rollbak\"]\n",
            &[
                "policy group x",
                "`rollbak` in `actions` is not a verb",
                "did you mean `rollback`?",
            ],
        ),
        (
            "[groups.x]\napprove = [\"deploy\"]\n",
            &["`deploy` in `approve` is not a verb", "restart, rollback"],
        ),
        (
            "[groups.x]\naccounts = [\"[\"]\n",
            &["policy group x", "not a valid glob"],
        ),
    ];
    for (text, wanted) in cases {
        let message = policy_error(text);
        for w in *wanted {
            assert!(message.contains(w), "{text:?}: `{w}` not in: {message}");
        }
    }
    // The verb error never suggests for something far from any verb.
    assert!(!policy_error("[groups.x]\napprove = [\"deploy\"]\n").contains("did you mean"));
}

#[test]
fn a_verb_needs_a_group_that_grants_it_and_sees_the_target() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let checkout = svc("prod", "checkout");
    let payments = svc("prod", "payments-api");

    let oncall = policy.grants(Some(&who("ana", &["oncall"])));
    for verb in Verb::ALL {
        assert!(oncall.may_act(verb, None, Some(&checkout)));
        assert!(oncall.may_approve(verb, None, Some(&checkout)));
    }
    assert!(
        oncall.may_act(Verb::Silence, None, None),
        "an alarm of no service"
    );

    let team = policy.grants(Some(&who("bo", &["payments-team"])));
    assert!(team.may_act(Verb::Restart, None, Some(&payments)));
    assert!(
        !team.may_act(Verb::Rollback, None, Some(&payments)),
        "not granted"
    );
    assert!(!team.may_approve(Verb::Restart, None, Some(&payments)));
    assert!(
        !team.sees(None, Some(&checkout)) && !team.may_act(Verb::Restart, None, Some(&checkout)),
        "a hidden service is never a target"
    );
    assert!(
        !team.may_act(Verb::Restart, None, None),
        "an alarm tied to no service is visible only to groups that see everything"
    );

    let room = policy.grants(Some(&who("room-1", &["conference-room"])));
    assert!(room.sees(None, Some(&checkout)));
    assert!(!room.may_act(Verb::Restart, None, Some(&checkout)));

    // One group grants scale (staging, account dev), another sees prod: no scale in prod.
    let both = policy.grants(Some(&who("cy", &["staging-hands", "conference-room"])));
    assert!(both.may_act(Verb::Scale, Some("dev"), Some(&svc("staging", "web"))));
    assert!(both.may_approve(Verb::Scale, Some("dev"), Some(&svc("staging", "web"))));
    assert!(!both.may_act(Verb::Scale, Some("prod"), Some(&svc("staging", "web"))));
    assert!(!both.may_act(Verb::Scale, None, Some(&checkout)));
    assert!(
        both.may_act(Verb::Scale, None, Some(&svc("staging", "web"))),
        "without accounts configured there is no account to match"
    );

    assert!(
        !policy
            .grants(None)
            .may_act(Verb::Restart, None, Some(&checkout))
    );
    assert!(
        !Policy::deny_all()
            .grants(Some(&who("ana", &["oncall"])))
            .may_act(Verb::Restart, None, Some(&checkout))
    );
}

#[test]
fn the_demo_policy_allows_every_verb_without_approval() {
    let demo = Policy::allow_all();
    assert!(demo.actions().enabled && !demo.actions().approval_required());
    let grants = demo.grants(None);
    let target = Target::service(svc("prod", "checkout"));
    for verb in [Verb::Restart, Verb::Rollback, Verb::Scale] {
        assert_eq!(Gate::new(false).decide(&grants, verb, &target), Ok(()));
    }
    assert_eq!(
        Gate::new(false).decide(&grants, Verb::Silence, &Target::alarm("cpu-high", None)),
        Ok(())
    );
    assert!(!Gate::needs_approval(&grants, &target));
}

#[test]
fn the_gate_refuses_in_order_kill_switch_then_policy_then_visibility_then_grant() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let checkout = Target::service(svc("prod", "checkout"));
    let open = Gate::new(false);

    // The kill switch refuses everyone, the demo's allow-all included.
    let killed = Gate::from_config(&opsvoice::config::Config {
        actions: opsvoice::config::Actions {
            off: true,
            ..Default::default()
        },
        ..Default::default()
    });
    for grants in [
        Policy::allow_all().grants(None),
        policy.grants(Some(&who("ana", &["oncall"]))),
    ] {
        assert_eq!(
            killed.decide(&grants, Verb::Restart, &checkout),
            Err(Refusal::KillSwitch)
        );
        assert_eq!(open.decide(&grants, Verb::Restart, &checkout), Ok(()));
    }
    assert_eq!(
        Gate::from_config(&opsvoice::config::Config::default()).decide(
            &Policy::allow_all().grants(None),
            Verb::Scale,
            &checkout
        ),
        Ok(())
    );

    let old = Policy::from_toml(
        "[groups.oncall]\nclusters = [\"*\"]\nservices = [\"*\"]\nintents = [\"*\"]\n",
    )
    .unwrap();
    assert_eq!(
        open.decide(
            &old.grants(Some(&who("ana", &["oncall"]))),
            Verb::Restart,
            &checkout
        ),
        Err(Refusal::NotEnabled)
    );
    let team = policy.grants(Some(&who("bo", &["payments-team"])));
    assert_eq!(
        open.decide(&team, Verb::Restart, &checkout),
        Err(Refusal::Hidden)
    );
    let payments = Target::service(svc("prod", "payments-api"));
    assert_eq!(open.decide(&team, Verb::Restart, &payments), Ok(()));
    assert_eq!(
        open.decide(&team, Verb::Scale, &payments),
        Err(Refusal::NoGrant)
    );
    assert_eq!(
        open.decide(&team, Verb::Silence, &payments),
        Err(Refusal::Mismatch),
        "a service cannot be silenced"
    );
    assert!(
        Gate::needs_approval(&team, &payments),
        "prod needs approval"
    );
    assert!(!Gate::needs_approval(
        &team,
        &Target::service(svc("staging", "payments"))
    ));
}

#[test]
fn every_refusal_is_said_in_a_sentence_naming_the_verb_and_that_nothing_changed() {
    let renderer = opsvoice::speech::Renderer::embedded(None).unwrap();
    let target = Target::service(svc("prod", "checkout"));
    for mode in [opsvoice::vocab::Mode::Voice, opsvoice::vocab::Mode::Text] {
        let say = renderer.say("en-US", mode);
        for refusal in [
            Refusal::KillSwitch,
            Refusal::NotEnabled,
            Refusal::Hidden,
            Refusal::NoGrant,
            Refusal::Mismatch,
            Refusal::RateLimited,
            Refusal::TargetChanged,
        ] {
            assert!(
                renderer.has_message(refusal.message_id(), "en-US"),
                "{refusal:?}"
            );
            let sentence = refusal.explain(&say, Verb::Rollback, &target);
            assert!(
                sentence.contains("Nothing was changed") || sentence.contains("didn't"),
                "{refusal:?}: {sentence}"
            );
            // A hidden target gets the words of any question outside the grants.
            if refusal == Refusal::Hidden {
                assert!(!sentence.contains("checkout"), "{sentence}");
            } else {
                assert!(
                    sentence.contains("roll back checkout"),
                    "{refusal:?}: {sentence}"
                );
            }
        }
    }
}

fn opsvoice_check(policy: &str, slack: bool) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, policy).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_opsvoice"));
    for (key, _) in std::env::vars() {
        if key.starts_with("OPSVOICE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG")
        .arg("check")
        .env("OPSVOICE_POLICY_FILE", &path)
        .env(
            "OPSVOICE_STORE",
            format!("file:{}", dir.path().join("store.db").display()),
        );
    if slack {
        cmd.env("OPSVOICE_SLACK_SIGNING_SECRET", "s")
            .env("OPSVOICE_SLACK_BOT_TOKEN", "xoxb-1");
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn check_fails_when_the_policy_asks_for_approval_but_there_is_no_slack_app() {
    let approval = "[actions]\nenabled = true\napproval = [\"prod\"]\nchannel = \"C0APPROVALS\"\n";
    let (ok, out) = opsvoice_check(approval, false);
    assert!(!ok, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("error:")
            && l.contains("asks for approval")
            && l.contains("OPSVOICE_SLACK_SIGNING_SECRET")
            && l.contains("OPSVOICE_SLACK_BOT_TOKEN")),
        "{out}"
    );
    let (ok, out) = opsvoice_check(approval, true);
    assert!(ok, "{out}");

    // No channel: the policy itself is refused, naming the key.
    let (ok, out) = opsvoice_check("[actions]\napproval = [\"prod\"]\n", true);
    assert!(!ok, "{out}");
    assert!(out.contains("`channel`"), "{out}");

    // No approval anywhere: no Slack app needed.
    let (ok, out) = opsvoice_check("[actions]\nenabled = true\n", false);
    assert!(ok, "{out}");
}

// ---- the action record ----

const T0: u64 = 1_795_341_600;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

fn ana() -> Person {
    Person {
        sub: "sub-ana".into(),
        username: "ana".into(),
    }
}

fn bob() -> Person {
    Person {
        sub: "sub-bob".into(),
        username: "bob".into(),
    }
}

fn rollback(id: &str, needs_approval: bool, now: SystemTime) -> ActionRecord {
    ActionRecord::request(
        id,
        Change::Rollback {
            from: "checkout:42".into(),
            to: "checkout:41".into(),
            ran_until: Some(1_795_340_000),
        },
        Target::service(svc("prod", "checkout")),
        ana(),
        "lex:session-1",
        needs_approval,
        ActionSettings::DEFAULT_APPROVAL_TTL,
        now,
    )
    .unwrap()
}

#[test]
fn an_action_runs_confirmed_claimed_executed_finished_and_no_step_is_skipped() {
    let mut r = rollback("a1", false, at(0));
    assert_eq!(r.state(), &State::Pending);
    assert_eq!(r.verb(), Verb::Rollback);
    assert!(matches!(
        r.claim(Duration::from_secs(60), at(1)),
        Err(StepError::Illegal {
            from: "pending",
            ..
        })
    ));
    assert!(r.finish(Outcome::Done, at(1)).is_err());
    assert_eq!(
        r.confirm("sub-ana", "lex:session-1", at(5)),
        Ok("action_confirmed")
    );
    assert!(r.await_approval(at(5)).is_err(), "no approval needed here");
    assert_eq!(
        r.claim(Duration::from_secs(60), at(6)),
        Ok("action_claimed")
    );
    assert_eq!(
        r.state(),
        &State::Claimed {
            lease_until: i64::try_from(T0 + 66).unwrap()
        }
    );
    assert!(
        r.claim(Duration::from_secs(60), at(6)).is_err(),
        "claimed once"
    );
    assert!(
        r.refuse(Refusal::TargetChanged, at(6)).is_err(),
        "too late to refuse"
    );
    assert_eq!(r.executed("req-1", at(7)), Ok("action_executed"));
    assert_eq!(r.finish(Outcome::Done, at(200)), Ok("action_finished"));
    assert!(r.state().is_final());
    for step in [
        r.clone().confirm("sub-ana", "lex:session-1", at(201)),
        r.clone().deny("sub-ana", "lex:session-1", at(201)),
        r.clone().expire(at(9_999)),
        r.clone().finish(Outcome::Failed, at(201)),
        r.clone().executed("req-2", at(201)),
    ] {
        assert!(
            matches!(
                step,
                Err(StepError::Illegal {
                    from: "finished",
                    ..
                })
            ),
            "{step:?}"
        );
    }
}

#[test]
fn only_the_requesters_own_yes_in_the_same_session_confirms() {
    let mut r = rollback("a2", false, at(0));
    assert_eq!(
        r.confirm("sub-bob", "lex:session-1", at(1)),
        Err(StepError::NotYours)
    );
    assert_eq!(
        r.confirm("sub-ana", "slack:T1:C1:1.2", at(1)),
        Err(StepError::NotYours)
    );
    assert_eq!(
        r.deny("sub-bob", "lex:session-1", at(1)),
        Err(StepError::NotYours)
    );
    assert_eq!(
        r.state(),
        &State::Pending,
        "a stranger's answer changes nothing"
    );
    assert_eq!(
        r.deny("sub-ana", "lex:session-1", at(2)),
        Ok("action_denied")
    );
    assert_eq!(r.state(), &State::Denied);
    assert!(r.confirm("sub-ana", "lex:session-1", at(3)).is_err());
}

#[test]
fn approval_needs_someone_else_in_time_and_only_then_can_it_be_claimed() {
    let mut r = rollback("a3", true, at(0));
    r.confirm("sub-ana", "lex:session-1", at(10)).unwrap();
    assert!(
        r.claim(Duration::from_secs(60), at(11)).is_err(),
        "a confirmed action that needs approval cannot run"
    );
    assert_eq!(r.await_approval(at(11)), Ok("action_awaiting_approval"));
    assert_eq!(r.deadline(), Some(i64::try_from(T0 + 11 + 600).unwrap()));
    assert_eq!(r.approve(ana(), at(12)), Err(StepError::SelfApproval));
    assert_eq!(r.reject(ana(), at(12)), Err(StepError::SelfApproval));
    assert_eq!(r.state(), &State::AwaitingApproval);
    assert_eq!(r.approve(bob(), at(20)), Ok("action_approved"));
    assert_eq!(r.approver(), Some(&bob()));
    assert_eq!(
        r.claim(Duration::from_secs(60), at(21)),
        Ok("action_claimed")
    );

    let mut late = rollback("a4", true, at(0));
    late.confirm("sub-ana", "lex:session-1", at(1)).unwrap();
    late.await_approval(at(1)).unwrap();
    assert_eq!(late.approve(bob(), at(1 + 601)), Err(StepError::Expired));
    assert_eq!(late.expire(at(1 + 601)), Ok("action_expired"));

    let mut rejected = rollback("a5", true, at(0));
    rejected.confirm("sub-ana", "lex:session-1", at(1)).unwrap();
    rejected.await_approval(at(1)).unwrap();
    assert_eq!(rejected.reject(bob(), at(2)), Ok("action_rejected"));
    assert!(rejected.claim(Duration::from_secs(60), at(3)).is_err());
    assert!(rejected.state().is_final());
}

#[test]
fn a_change_must_fit_its_target() {
    let silence_a_service = ActionRecord::request(
        "a6",
        Change::Silence {
            until: 1,
            actions_were_enabled: true,
        },
        Target::service(svc("prod", "checkout")),
        ana(),
        "s",
        false,
        ActionSettings::DEFAULT_APPROVAL_TTL,
        at(0),
    );
    assert!(matches!(
        silence_a_service,
        Err(StepError::Mismatch {
            verb: Verb::Silence,
            ..
        })
    ));
}

/// A pending read-back lives 2 minutes (issue 31, guard rail 2); moved on a manual clock
/// through the ledger, as a later instance would find it.
#[tokio::test]
async fn a_pending_read_back_expires_after_two_minutes_on_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at(0)));
    let store: Arc<dyn Store> = Arc::new(
        opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock.clone()).unwrap(),
    );
    let ledger = Ledger::new(store, clock.clone());
    ledger
        .open(&rollback("e1", false, clock.now()))
        .await
        .unwrap();
    ledger
        .open(&rollback("e2", false, clock.now()))
        .await
        .unwrap();
    assert!(matches!(
        ledger.open(&rollback("e1", false, clock.now())).await,
        Err(LedgerError::Exists(_))
    ));

    clock.advance(PENDING_TTL);
    assert!(matches!(
        ledger.step("e1", |r, now| r.expire(now)).await,
        Err(LedgerError::Step(StepError::NotDue))
    ));
    let confirmed = ledger
        .step("e1", |r, now| r.confirm("sub-ana", "lex:session-1", now))
        .await
        .unwrap();
    assert_eq!(
        confirmed.state(),
        &State::Confirmed,
        "at exactly 2 minutes, still in time"
    );

    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        ledger
            .step("e2", |r, now| r.confirm("sub-ana", "lex:session-1", now))
            .await,
        Err(LedgerError::Step(StepError::Expired))
    ));
    let expired = ledger.step("e2", |r, now| r.expire(now)).await.unwrap();
    assert_eq!(expired.state(), &State::Expired);
    assert_eq!(
        ledger.get("e2").await.unwrap().unwrap().state(),
        &State::Expired
    );
    assert!(matches!(
        ledger.step("nope", |r, now| r.expire(now)).await,
        Err(LedgerError::Missing(_))
    ));
}

/// Two instances claim the same approved action at once: exactly one wins, every time.
async fn exactly_one_claimer_wins(store: Arc<dyn Store>, clock: Arc<ManualClock>) {
    let ledger = Ledger::new(store, clock.clone());
    let lease = Duration::from_secs(60);
    for round in 0..8 {
        let id = format!("race-{round}");
        let needs_approval = round % 2 == 1;
        ledger
            .open(&rollback(&id, needs_approval, clock.now()))
            .await
            .unwrap();
        ledger
            .step(&id, |r, now| r.confirm("sub-ana", "lex:session-1", now))
            .await
            .unwrap();
        if needs_approval {
            ledger
                .step(&id, |r, now| r.await_approval(now))
                .await
                .unwrap();
            ledger
                .step(&id, |r, now| r.approve(bob(), now))
                .await
                .unwrap();
        }
        let (a, b) = tokio::join!(ledger.claim(&id, lease), ledger.claim(&id, lease));
        let won = [a.unwrap(), b.unwrap()]
            .into_iter()
            .filter(|c| matches!(c, Claim::Won(_)))
            .count();
        assert_eq!(won, 1, "round {round}: exactly one claimer wins");
        assert!(matches!(
            ledger.get(&id).await.unwrap().unwrap().state(),
            State::Claimed { .. }
        ));
        // A late third claimer (a Slack retry) loses too.
        assert!(matches!(
            ledger.claim(&id, lease).await.unwrap(),
            Claim::Lost
        ));
    }
    // A pending action cannot be claimed at all: an error, not a loss.
    ledger
        .open(&rollback("early", false, clock.now()))
        .await
        .unwrap();
    assert!(matches!(
        ledger.claim("early", lease).await,
        Err(LedgerError::Step(StepError::Illegal {
            from: "pending",
            ..
        }))
    ));
}

#[tokio::test]
async fn two_racing_claims_on_the_sqlite_store_make_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let store =
        opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock.clone()).unwrap();
    exactly_one_claimer_wins(Arc::new(store), clock).await;
}

#[tokio::test]
async fn two_racing_claims_on_dynamodb_make_one_winner() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    common::moto::store_table(&sdk, "actions").await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let store = opsvoice::store::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        "actions".to_owned(),
        clock.clone(),
    );
    exactly_one_claimer_wins(Arc::new(store), clock).await;
}

/// Collects everything logged, as JSON lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// As in `audit.rs`: a capture of this thread's logs is reliable only in a process of its
/// own (tracing caches, process-wide, whether anyone listens at a call site).
#[test]
fn action_audit_is_checked_in_a_process_of_its_own() {
    let test = "act::each_stored_step_is_one_audit_event_with_its_design_name";
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--ignored", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
#[ignore = "captures the thread's logs: run alone by `action_audit_is_checked_in_a_process_of_its_own`"]
async fn each_stored_step_is_one_audit_event_with_its_design_name() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at(0)));
    let store: Arc<dyn Store> = Arc::new(
        opsvoice::store::file::FileStore::open(&dir.path().join("s.db"), clock.clone()).unwrap(),
    );
    let ledger = Ledger::new(store, clock.clone());
    let mut record = rollback("audited", true, clock.now());
    // A username with a line break must not forge a second line.
    record = ActionRecord::request(
        record.id(),
        record.change().clone(),
        record.target().clone(),
        Person {
            sub: "sub-ana".into(),
            username: "ana\nopsvoice::audit forged".into(),
        },
        record.session(),
        true,
        ActionSettings::DEFAULT_APPROVAL_TTL,
        clock.now(),
    )
    .unwrap();
    ledger.open(&record).await.unwrap();
    let s = "lex:session-1";
    ledger
        .step("audited", |r, now| r.confirm("sub-ana", s, now))
        .await
        .unwrap();
    ledger
        .step("audited", |r, now| r.await_approval(now))
        .await
        .unwrap();
    // A refused step is stored unchanged and audits nothing.
    ledger
        .step("audited", |r, now| r.approve(ana(), now))
        .await
        .unwrap_err();
    ledger
        .step("audited", |r, now| r.approve(bob(), now))
        .await
        .unwrap();
    let Claim::Won(_) = ledger
        .claim("audited", Duration::from_secs(60))
        .await
        .unwrap()
    else {
        panic!("the only claimer wins");
    };
    ledger
        .step("audited", |r, now| r.executed("req-42", now))
        .await
        .unwrap();
    ledger
        .step("audited", |r, now| r.finish(Outcome::Done, now))
        .await
        .unwrap();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let audits: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "opsvoice::audit")
        .collect();
    let events: Vec<&str> = audits
        .iter()
        .map(|a| a["fields"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "action_requested",
            "action_confirmed",
            "action_awaiting_approval",
            "action_approved",
            "action_claimed",
            "action_executed",
            "action_finished",
        ],
        "{logs}"
    );
    for a in &audits {
        let f = &a["fields"];
        assert_eq!(f["action"], "audited");
        assert_eq!(f["sub"], "sub-ana");
        assert_eq!(f["username"], "ana\\nopsvoice::audit forged", "escaped");
        assert_eq!(f["verb"], "rollback");
        assert_eq!(f["target"], "prod/checkout");
    }
    assert_eq!(audits[3]["fields"]["approver"], "bob");
    assert_eq!(audits[5]["fields"]["request_id"], "req-42");
    assert_eq!(audits[6]["fields"]["outcome"], "done");
}
