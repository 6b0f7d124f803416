//! The action record (issue 31, guard rails 2, 3, 4 and 7): its steps, its expiry on a
//! manual clock, its audit events, and the claim that two racing instances cannot both win,
//! on both real stores.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opsvoice::act::ledger::{Claim, Ledger, LedgerError};
use opsvoice::act::record::{ActionRecord, Change, Outcome, PENDING_TTL, Person, State, StepError};
use opsvoice::act::{Refusal, Target};
use opsvoice::auth::policy::ActionSettings;
use opsvoice::ops::{Clock, ManualClock};
use opsvoice::store::Store;
use opsvoice::vocab::Verb;

use super::svc;
use crate::common;
use crate::common::moto::Moto;

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

/// As in `audit.rs`: a capture of this thread's logs is reliable only in a process of its
/// own (tracing caches, process-wide, whether anyone listens at a call site).
#[test]
fn action_audit_is_checked_in_a_process_of_its_own() {
    common::alone(&["act::record::each_stored_step_is_one_audit_event_with_its_design_name"]);
}

#[tokio::test]
#[ignore = "captures the thread's logs: run alone by `action_audit_is_checked_in_a_process_of_its_own`"]
async fn each_stored_step_is_one_audit_event_with_its_design_name() {
    let capture = common::LogCapture::default();
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

    let logs = capture.text();
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
