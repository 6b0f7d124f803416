//! Acknowledgements at the notifier: recorded once when presses race, refused without a
//! trace when they cannot be, kept on the card through a resolve that races them and
//! through a Slack outage, and said by "what did I miss?" (escaped for SSML).

use super::*;
use opsvoice::auth::Principal;
use opsvoice::auth::link::SlackUser;
use opsvoice::channel::slack::ack::{Acked, Acker};

const ALARM: &str = "checkout-p99-latency-high";

/// A Slack user linked to a principal in `group`.
struct Person {
    slack: SlackUser,
    principal: Principal,
    grants: opsvoice::auth::policy::Grants,
}

impl Person {
    fn new(w: &World, id: &str, username: &str, group: &str) -> Self {
        let principal = Principal {
            sub: format!("sub-{id}"),
            username: username.to_owned(),
            groups: vec![group.to_owned()],
        };
        Self {
            slack: SlackUser {
                team: "T0001".to_owned(),
                user: id.to_owned(),
            },
            grants: w.assistant.identity().policy().grants(Some(&principal)),
            principal,
        }
    }

    fn acker(&self) -> Acker<'_> {
        Acker {
            slack: &self.slack,
            principal: &self.principal,
            grants: &self.grants,
        }
    }
}

/// The card of `alarm` posted in OPS: its `ts` and its Acknowledge button's value.
fn posted_card(w: &World, alarm: &str) -> (String, String) {
    let posts = w.slack.posts();
    let at = posts
        .iter()
        .position(|p| {
            p.method == "chat.postMessage"
                && p.body["channel"] == OPS
                && text(p).contains(&format!("{alarm} is firing"))
        })
        .expect("the card");
    let value = posts[at].body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .find(|e| e["action_id"] == "ack")
        .expect("an Acknowledge button")["value"]
        .as_str()
        .unwrap()
        .to_owned();
    (format!("1700000000.{:06}", at + 1), value)
}

fn edits(w: &World, ts: &str) -> Vec<Post> {
    w.slack
        .posts()
        .into_iter()
        .filter(|p| p.method == "chat.update" && p.body["ts"] == ts)
        .collect()
}

fn says_acked_by(post: &Post, user: &str) -> bool {
    post.body["blocks"]
        .to_string()
        .contains(&format!("Acknowledged by <@{user}>"))
}

#[tokio::test]
async fn racing_presses_record_one_acknowledgement_and_refusals_record_none() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = w.notifier(store.clone());
    accept(&notifier, &alarm_event(ALARM, "ALARM", "OK", w.clock.now())).await;
    w.settle(&notifier).await;
    let (ts, value) = posted_card(&w, ALARM);
    let (opened_at, _) = opsvoice::notify::card::read_ack_value(&value).unwrap();
    let key = opsvoice::store::Key::ack(OPS, opened_at, ALARM);
    let ana = Person::new(&w, "UANA", "ana", "oncall");
    let bo = Person::new(&w, "UBO", "bo", "oncall");
    let dee = Person::new(&w, "UDEE", "dee", "data-team");

    // Refused: a group that may not see prod, a button we did not make, another card.
    for (by, ts, value) in [
        (&dee, ts.as_str(), value.as_str()),
        (&ana, ts.as_str(), "12:no-such-alarm"),
        (&ana, ts.as_str(), "not a value"),
        (&ana, "1700000000.999999", value.as_str()),
        (&ana, ts.as_str(), &format!("{}:{ALARM}", opened_at - 60)),
    ] {
        let acked = notifier
            .acknowledge(OPS, ts, value, by.acker())
            .await
            .unwrap();
        let expected = if by.principal.username == "dee" {
            Acked::Denied
        } else {
            Acked::Over
        };
        assert_eq!(acked, expected, "{value} at {ts}");
    }
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert!(edits(&w, &ts).is_empty());

    // Two people press at once: exactly one is first, and the card is edited once.
    let (first, second) = tokio::join!(
        notifier.acknowledge(OPS, &ts, &value, ana.acker()),
        notifier.acknowledge(OPS, &ts, &value, bo.acker()),
    );
    let outcomes = [first.unwrap(), second.unwrap()];
    let winner = match &outcomes {
        [Acked::Done, _] => "UANA".to_owned(),
        [_, Acked::Done] => "UBO".to_owned(),
        _ => panic!("nobody recorded it: {outcomes:?}"),
    };
    assert!(
        outcomes.contains(&Acked::Already(Some(winner.clone()))),
        "{outcomes:?}"
    );
    let edited = edits(&w, &ts);
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert!(says_acked_by(&edited[0], &winner), "{:#}", edited[0].body);
    // Pressed again later: still the first, and no edit.
    assert_eq!(
        notifier
            .acknowledge(OPS, &ts, &value, ana.acker())
            .await
            .unwrap(),
        Acked::Already(Some(winner.clone()))
    );
    assert_eq!(edits(&w, &ts).len(), 1);
    let record: Value = serde_json::from_str(&store.get(&key).await.unwrap().unwrap()).unwrap();
    assert_eq!(record["user"], winner.as_str());
    assert_eq!(record["v"], 1, "a versioned record: {record}");
    assert_valid(&w.slack);
}

/// The acknowledgement's edit is slow on its way to Slack, and the alarm resolves (its card
/// edited) meanwhile: the stale edit lands last, so the acknowledgement edits once more.
#[tokio::test]
async fn an_acknowledged_edit_that_lands_after_the_resolve_is_followed_by_the_latest() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = w.notifier(store.clone());
    accept(&notifier, &alarm_event(ALARM, "ALARM", "OK", w.clock.now())).await;
    w.settle(&notifier).await;
    let (ts, value) = posted_card(&w, ALARM);
    let ana = Person::new(&w, "UANA", "ana", "oncall");
    w.clock.advance(Duration::from_secs(5 * 60));
    w.slack.slow_next("chat.update", Duration::from_millis(600));
    let arrived = w.slack.arrived();
    let resolve = async {
        // Once the acknowledgement's edit is on its way: the alarm resolves.
        while w.slack.arrived() == arrived {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        accept(&notifier, &alarm_event(ALARM, "OK", "ALARM", w.clock.now())).await;
        notifier.deliver_due().await;
    };
    let (acked, ()) = tokio::join!(notifier.acknowledge(OPS, &ts, &value, ana.acker()), resolve);
    assert!(matches!(acked.unwrap(), Acked::Done));
    let edited = edits(&w, &ts);
    let texts: Vec<String> = edited.iter().map(text).collect();
    assert_eq!(edited.len(), 3, "{texts:#?}");
    // The resolve's edit, then the acknowledgement's stale one, then the latest again.
    assert!(texts[0].contains("resolved after"), "{texts:#?}");
    assert!(texts[1].contains("is firing"), "{texts:#?}");
    let last = edited.last().unwrap();
    assert!(text(last).contains("resolved after"), "{texts:#?}");
    assert!(says_acked_by(last, "UANA"), "{:#}", last.body);
    assert_valid(&w.slack);
}

#[tokio::test]
async fn slack_down_queues_the_acknowledged_edit_and_what_happened_says_who() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = w.notifier(store.clone());
    accept(&notifier, &alarm_event(ALARM, "ALARM", "OK", w.clock.now())).await;
    w.settle(&notifier).await;
    let (ts, value) = posted_card(&w, ALARM);
    // A username with what SSML and Block Kit must escape.
    let ana = Person::new(&w, "UANA", "ana&<co>", "oncall");
    for _ in 0..3 {
        w.slack.fail_next(Failure::ServerError);
    }
    let acked = notifier
        .acknowledge(OPS, &ts, &value, ana.acker())
        .await
        .unwrap();
    assert!(matches!(acked, Acked::Done), "{acked:?}");
    assert!(edits(&w, &ts).is_empty(), "Slack was down");
    // The edit waits in the queue, and is made once Slack answers.
    w.clock.advance(Duration::from_secs(10));
    notifier.deliver_due().await;
    let edited = edits(&w, &ts);
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert!(says_acked_by(&edited[0], "UANA"), "{:#}", edited[0].body);

    let answer = common::ask_with_log(w.clock.clone(), store, "what did I miss").await;
    assert!(
        answer.text.contains(&format!("{ALARM} fired")),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("ana&<co> acknowledged it"),
        "{}",
        answer.text
    );
    let spoken = common::assert_valid_ssml(&answer.ssml);
    assert!(spoken.contains("acknowledged it"), "{spoken}");
    assert!(answer.ssml.contains("&amp;&lt;co&gt;"), "{}", answer.ssml);
    assert_valid(&w.slack);
}

/// The audit test captures its thread's logs, so it runs alone (see `audit.rs`).
#[test]
fn the_acknowledgement_audit_is_checked_in_a_process_of_its_own() {
    common::alone(&["notify::acks::an_acknowledgement_is_audited_once_with_who_and_what"]);
}

#[tokio::test]
#[ignore = "captures the thread's logs: run alone by `the_acknowledgement_audit_is_checked_in_a_process_of_its_own`"]
async fn an_acknowledgement_is_audited_once_with_who_and_what() {
    let capture = common::LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    accept(&notifier, &alarm_event(ALARM, "ALARM", "OK", w.clock.now())).await;
    w.settle(&notifier).await;
    let (ts, value) = posted_card(&w, ALARM);
    let ana = Person::new(&w, "UANA", "ana", "oncall");
    let dee = Person::new(&w, "UDEE", "dee", "data-team");
    for by in [&dee, &ana, &ana] {
        notifier
            .acknowledge(OPS, &ts, &value, by.acker())
            .await
            .unwrap();
    }
    let logs = capture.text();
    let audits: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "opsvoice::audit" && l["fields"]["message"] != "audit")
        .collect();
    // (The card's health line is a question, audited as every question is.)
    assert_eq!(audits.len(), 1, "one event, for the one recorded:\n{logs}");
    let a = &audits[0]["fields"];
    assert_eq!(a["event"], "alarm_acknowledged");
    assert_eq!(a["slack_user"], "UANA");
    assert_eq!(a["slack_team"], "T0001");
    assert_eq!(a["sub"], "sub-UANA");
    assert_eq!(a["username"], "ana");
    assert_eq!(a["alarm"], ALARM);
    assert_eq!(a["service"], "prod/checkout");
    assert_eq!(a["channel"], OPS);
}
